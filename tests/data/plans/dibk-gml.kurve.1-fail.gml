<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0" xmlns:sc="http://www.interactive-instruments.de/ShapeChange/AppInfo" xmlns="http://www.w3.org/2001/XMLSchema" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0 http://skjema.geonorge.no/SOSITEST/produktspesifikasjon/Reguleringsplanforslag/5.0/reguleringsplanforslag-5.0.xsd" gml:id="_60b01995-7434-4d77-bc58-d64344f30749">
  <gml:boundedBy>
    <gml:Envelope srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
      <gml:lowerCorner>-13546.2606568071 196462.35</gml:lowerCorner>
      <gml:upperCorner>-12890.0410483495 197000.53032463</gml:upperCorner>
    </gml:Envelope>
  </gml:boundedBy>
  <gml:featureMember>
    <app:Arealplan gml:id="_e62e0d8a-7a86-4fa6-b35b-b7a319081fd3" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
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
              <app:kommunenummer>String</app:kommunenummer>
            </app:AdministrativEnhetskode>
          </app:administrativEnhet>
          <app:planidentifikasjon>String</app:planidentifikasjon>
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
        <gml:MultiSurface gml:id="_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>-0.37 4.79 -0.05 4.80 0.02 4.97 0.41 5.38 0.76 6.08 0.96 6.16 0.96 9.61 0.95 9.58 3.86 7.23 3.81 7.24 3.16 8.55 3.22 8.57 1.95 6.74 1.94 6.74 2.46 6.74 3.81 4.44 3.77 4.46 1.01 3.93 1.01 3.63 1.01 3.62 2.81 2.31 2.12 2.30 -0.90 4.79 -0.91 4.77 -0.37</gml:posList>
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
      <app:formål xlink:type="simple" xlink:href="#_23f6ea2a-0943-4d5f-94d2-0b68ad85f929" />
      <app:formål xlink:type="simple" xlink:href="#_6d6d42da-21f9-4263-8413-27171ff10303" />
      <app:bestemmelseOmråde xlink:type="simple" xlink:href="#_0b710728-faa9-4113-8552-e9780f8737c3" />
      <app:bestemmelseOmråde xlink:type="simple" xlink:href="#_614f21d8-20d3-451b-8ed9-c98296e2d301" />
    </app:RpOmråde>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpArealformålOmråde gml:id="_1deb7804-8671-469f-a0af-0ce6d5fa0b5c" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
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
        <gml:MultiSurface gml:id="_1deb7804-8671-469f-a0af-0ce6d5fa0b5c-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_1deb7804-8671-469f-a0af-0ce6d5fa0b5c-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>3.93 1.01 3.63 1.01 3.62 2.81 2.31 2.12 2.30 -0.90 4.79 -0.91 4.77 -0.37 4.79 -0.05 3.93 -0.06 3.93 1.01</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
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
  <gml:featureMember>
    <app:RpArealformålOmråde gml:id="_23f6ea2a-0943-4d5f-94d2-0b68ad85f929" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>614a1fde-4afa-4b56-94fa-b9fa8af72f43</app:lokalId>
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
        <gml:MultiSurface gml:id="_23f6ea2a-0943-4d5f-94d2-0b68ad85f929-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_23f6ea2a-0943-4d5f-94d2-0b68ad85f929-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>6.74 2.46 6.74 3.81 4.44 3.77 4.46 1.01 3.93 1.01 3.93 -0.06 4.79 -0.05 4.80 0.02 4.97 0.41 5.38 0.76 6.08 0.96 6.16 0.96 6.17 2.45 6.74 2.46</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:arealformål>1169</app:arealformål>
      <app:feltnavn>o_BTAN2</app:feltnavn>
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
  <gml:featureMember>
    <app:RpArealformålOmråde gml:id="_6d6d42da-21f9-4263-8413-27171ff10303" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>f1d43920-1895-41ad-b33f-8c3b571cb873</app:lokalId>
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
        <gml:MultiSurface gml:id="_6d6d42da-21f9-4263-8413-27171ff10303-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_6d6d42da-21f9-4263-8413-27171ff10303-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>6.16 0.96 9.61 0.95 9.58 3.86 7.23 3.81 7.24 3.16 8.55 3.22 8.57 1.95 6.74 1.94 6.74 2.46 6.17 2.45 6.16 0.96</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:arealformål>1169</app:arealformål>
      <app:feltnavn>o_BTAN3</app:feltnavn>
      <app:beskrivelse>Beskrivelse</app:beskrivelse>
      <app:eierform>1</app:eierform>
      <app:utnytting>
        <app:Utnytting>
          <app:utnyttingstype>16</app:utnyttingstype>
          <app:utnyttingstall>24</app:utnyttingstall>
          <app:utnyttingstall_minimum>20</app:utnyttingstall_minimum>
        </app:Utnytting>
      </app:utnytting>
      <app:uteoppholdsareal>0</app:uteoppholdsareal>
      <app:planområde xlink:type="simple" xlink:href="#_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb" />
      <app:handlingsområde xlink:type="simple" xlink:href="#_12a3a62d-af54-4187-8213-7ed2c6453b2e" />
    </app:RpArealformålOmråde>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpBestemmelseOmråde gml:id="_0b710728-faa9-4113-8552-e9780f8737c3">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>5292d721-5a3d-4f6f-aa44-b9313d719fa0</app:lokalId>
          <app:navnerom>Lorem ipsum</app:navnerom>
          <app:versjonId>Lorem ipsum</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2021-03-09T11:22:38.8939101+01:00</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2021-03-09T11:22:38.8939101+01:00</app:oppdateringsdato>
      <app:kvalitet>
        <app:Posisjonskvalitet>
          <app:målemetode>-kodelisteverdi-</app:målemetode>
          <app:nøyaktighet>462417452</app:nøyaktighet>
        </app:Posisjonskvalitet>
      </app:kvalitet>
      <app:opphav>Lorem ipsum</app:opphav>
      <app:område>
        <gml:MultiSurface gml:id="_0b710728-faa9-4113-8552-e9780f8737c3-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_0b710728-faa9-4113-8552-e9780f8737c3-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>4.52 3.71 4.52 2.19 6.60 2.19 5.88 1.99 6.64 2.56 6.67 3.72 4.52 3.71</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:bestemmelseHjemmel>4</app:bestemmelseHjemmel>
      <app:bestemmelseOmrådeNavn>#1</app:bestemmelseOmrådeNavn>
      <app:planområde xlink:type="simple" xlink:href="#_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb" />
    </app:RpBestemmelseOmråde>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpBestemmelseOmråde gml:id="_614f21d8-20d3-451b-8ed9-c98296e2d301">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>59a38b53-01c2-43b1-972a-cd45204d97d9</app:lokalId>
          <app:navnerom>Lorem ipsum</app:navnerom>
          <app:versjonId>Lorem ipsum</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2021-03-09T11:22:38.8939101+01:00</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2021-03-09T11:22:38.8939101+01:00</app:oppdateringsdato>
      <app:kvalitet>
        <app:Posisjonskvalitet>
          <app:målemetode>-kodelisteverdi-</app:målemetode>
          <app:nøyaktighet>462417452</app:nøyaktighet>
        </app:Posisjonskvalitet>
      </app:kvalitet>
      <app:opphav>Lorem ipsum</app:opphav>
      <app:område>
        <gml:MultiSurface gml:id="_614f21d8-20d3-451b-8ed9-c98296e2d301-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_614f21d8-20d3-451b-8ed9-c98296e2d301-1" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList>4.54 2.09 4.52 1.04 6.65 1.02 6.67 2.47 6.22 2.47 6.22 2.07 4.54 2.09</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:bestemmelseHjemmel>4</app:bestemmelseHjemmel>
      <app:bestemmelseOmrådeNavn>#2</app:bestemmelseOmrådeNavn>
      <app:planområde xlink:type="simple" xlink:href="#_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb" />
    </app:RpBestemmelseOmråde>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpHandlingOmråde gml:id="_12a3a62d-af54-4187-8213-7ed2c6453b2e" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>e27d2b2d-51d7-482f-8df4-3bb930d05e49</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>e61670c1-0500-48f0-81a9-10ddbdf422d9</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2021-03-09T11:22:38.9095372+01:00</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2021-03-09T11:22:38.9095372+01:00</app:oppdateringsdato>
      <app:opphav>Lorem ipsum</app:opphav>
      <app:område>
        <gml:Polygon gml:id="_12a3a62d-af54-4187-8213-7ed2c6453b2e-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:exterior>
            <gml:LinearRing>
              <gml:posList>7.29 3.77 7.29 3.22 8.61 3.27 8.63 1.97 9.56 1.97 9.53 3.80 7.29 3.77</gml:posList>
            </gml:LinearRing>
          </gml:exterior>
        </gml:Polygon>
      </app:område>
      <app:formålsområde xlink:type="simple" xlink:href="#_6d6d42da-21f9-4263-8413-27171ff10303" />
    </app:RpHandlingOmråde>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpRegulertHøyde gml:id="_0c12aec2-74f1-4095-b2dc-86a6a0768edf">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>5a12b2a3-e41e-4d9f-98cb-2191234a1729</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>56f46a19-c47a-4dda-97e8-4dc8bc9cfb7b</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2021-02-03T16:19:42.7237148+01:00</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2021-02-03T16:19:42.7237148+01:00</app:oppdateringsdato>
      <app:opphav>Lorem ipsum</app:opphav>
      <app:senterlinje>
        <gml:Curve gml:id="_0c12aec2-74f1-4095-b2dc-86a6a0768edf-0" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:segments>
            <gml:LineStringSegment>
              <gml:posList>-0.65 2.75 -0.19 3.15 0.07 3.61 0.28 3.81 0.64 3.77 0.89</gml:posList>
            </gml:LineStringSegment>
          </gml:segments>
        </gml:Curve>
      </app:senterlinje>
      <app:høydeFraPlanbestemmelse>
        <app:HøydeFraPlanbestemmelse>
          <app:regulerthøyde>12.34</app:regulerthøyde>
          <app:høydereferansesystem>NN2000</app:høydereferansesystem>
        </app:HøydeFraPlanbestemmelse>
      </app:høydeFraPlanbestemmelse>
      <app:planområde xlink:type="simple" xlink:href="#_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb" />
    </app:RpRegulertHøyde>
  </gml:featureMember>
</gml:FeatureCollection>