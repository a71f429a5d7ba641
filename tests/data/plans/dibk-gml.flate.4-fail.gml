<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2"
  xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0"
  xmlns:sc="http://www.interactive-instruments.de/ShapeChange/AppInfo"
  xmlns="http://www.w3.org/2001/XMLSchema"
  xmlns:xlink="http://www.w3.org/1999/xlink"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0 http://skjema.geonorge.no/SOSITEST/produktspesifikasjon/Reguleringsplanforslag/5.0/reguleringsplanforslag-5.0.xsd" gml:id="_60b01995-7434-4d77-bc58-d64344f30749">
  <gml:boundedBy>
    <gml:Envelope srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
      <gml:lowerCorner>-13546.2606568071 196462.35</gml:lowerCorner>
      <gml:upperCorner>-12890.0410483495 197000.53032463</gml:upperCorner>
    </gml:Envelope>
  </gml:boundedBy>
  <gml:featureMember>
    <app:Arealplan gml:id="_e62e0d8a-7a86-4fa6-b35b-b7a319081fd3"
      xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>41c29195-9926-45b0-99e2-eaba686ee290</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>0d0f7110-148d-4549-ba25-c920e7c241e7</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:oppdateringsdato>2001-12-17T09:30:47Z</app:oppdateringsdato>
      <app:prosesshistorie>prosess</app:prosesshistorie>
      <app:informasjon>informasjon</app:informasjon>
      <app:link>link</app:link>
      <app:nasjonalArealplanId>
        <app:NasjonalArealplanId>
          <app:administrativEnhet>
            <app:AdministrativEnhetskode>
              <app:kommunenummer>4601</app:kommunenummer>
            </app:AdministrativEnhetskode>
          </app:administrativEnhet>
          <app:planidentifikasjon>66470000</app:planidentifikasjon>
        </app:NasjonalArealplanId>
      </app:nasjonalArealplanId>
      <app:plantype>34</app:plantype>
      <app:plannavn>String</app:plannavn>
      <app:planstatus>2</app:planstatus>
      <app:lovreferanse>6</app:lovreferanse>
      <app:rpOmråde xlink:type="simple" xlink:href="#_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb" />
    </app:Arealplan>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpOmråde gml:id="_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>9f7ecfb2-02a2-4827-b11a-eb607a36ef4d</app:lokalId>
          <app:navnerom>http://data.geonorge.no/4203/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>"2020-12-22 12:41:36.000000"</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:oppdateringsdato>2021-03-09T11:22:38.9095372+01:00</app:oppdateringsdato>
      <app:opphav>Lorem ipsum</app:opphav>
      <app:område>
        <gml:MultiSurface gml:id="_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb-0">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>-25321757.96 49318.55 -25321757.96 49248.31 -25321698.35 49248.31 -25321698.35 49317.17 -25321757.96 49318.55</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:vertikalnivå>5</app:vertikalnivå>
      <app:vertikallag>
        <app:Vertikallag>
          <app:lag>Lorem ipsum</app:lag>
          <app:referansehøyde>23.32</app:referansehøyde>
        </app:Vertikallag>
      </app:vertikallag>
      <app:arealplan xlink:type="simple" xlink:href="#_e62e0d8a-7a86-4fa6-b35b-b7a319081fd3" />
      <app:formål xlink:type="simple" xlink:href="#_1deb7804-8671-469f-a0af-0ce6d5fa0b5c" />
    </app:RpOmråde>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpArealformålOmråde gml:id="_1deb7804-8671-469f-a0af-0ce6d5fa0b5c"
      xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>12063deb-d393-4e7d-87f8-1709adfec500</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>56f46a19-c47a-4dda-97e8-4dc8bc9cfb7b</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2020-12-22T00:00:00.000</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2020-12-22T00:00:00.000</app:oppdateringsdato>
      <app:kvalitet>
        <app:Posisjonskvalitet>
          <app:målemetode>frihåndstegningPåSkjerm</app:målemetode>
          <app:nøyaktighet>0</app:nøyaktighet>
        </app:Posisjonskvalitet>
      </app:kvalitet>
      <app:område>
        <gml:MultiSurface gml:id="_1deb7804-8671-469f-a0af-0ce6d5fa0b5c-0">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_1deb7804-8671-469f-a0af-0ce6d5fa0b5c-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>-25321757.96 49318.55 -25321757.96 49248.31 -25321698.35 49248.31 -25321698.35 49317.17 -25321757.96 49318.55</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
              <gml:interior>
                <gml:LinearRing>
                  <gml:posList>-25321709.90 49307.93 -25321709.90 49260.33 -25321760.73 49260.33 -25321753.34 49309.31 -25321709.90 49307.93</gml:posList>
                </gml:LinearRing>
              </gml:interior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:arealformål>1169</app:arealformål>
      <app:feltnavn>o_BTAN1</app:feltnavn>
      <app:beskrivelse>Beskrivelse</app:beskrivelse>
      <app:eierform>1</app:eierform>
      <app:utnytting>
        <app:Utnytting>
          <app:utnyttingstype>16</app:utnyttingstype>
          <app:utnyttingstall>43</app:utnyttingstall>
          <app:utnyttingstall_minimum>20</app:utnyttingstall_minimum>
        </app:Utnytting>
      </app:utnytting>
      <app:uteoppholdsareal>0</app:uteoppholdsareal>
      <app:planområde xlink:type="simple" xlink:href="#_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb" />
    </app:RpArealformålOmråde>
  </gml:featureMember>
</gml:FeatureCollection>