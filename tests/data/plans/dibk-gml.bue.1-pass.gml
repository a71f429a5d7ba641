<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0" xmlns:sc="http://www.interactive-instruments.de/ShapeChange/AppInfo" xmlns="http://www.w3.org/2001/XMLSchema" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0 http://skjema.geonorge.no/SOSITEST/produktspesifikasjon/Reguleringsplanforslag/5.0/reguleringsplanforslag-5.0.xsd" gml:id="_60b01995-7434-4d77-bc58-d64344f30749">
  <gml:boundedBy>
    <gml:Envelope srsName="http://www.opengis.net/def/crs/EPSG/0/25832" srsDimension="2">
      <gml:lowerCorner>-13546.2606568071 196462.35</gml:lowerCorner>
      <gml:upperCorner>-12890.0410483495 197000.53032463</gml:upperCorner>
    </gml:Envelope>
  </gml:boundedBy>
  <gml:featureMember>
    <app:Arealplan gml:id="_e62e0d8a-7a86-4fa6-b35b-b7a319081fd3" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>7c43d398-7cce-444d-92fa-ce6c6294a22a</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>0d0f7110-148d-4549-ba25-c920e7c241e7</app:versjonId>
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
      <app:opphav>opphav</app:opphav>
      <app:arealplanId>
        <app:NasjonalArealplanId>
          <app:administrativEnhet>
            <app:AdministrativEnhetskode>
              <app:kommunenummer>4201</app:kommunenummer>
            </app:AdministrativEnhetskode>
          </app:administrativEnhet>
          <app:planidentifikasjon>planid</app:planidentifikasjon>
        </app:NasjonalArealplanId>
      </app:arealplanId>
      <app:plantype>34</app:plantype>
      <app:plannavn>plannavn</app:plannavn>
      <app:planstatus>2</app:planstatus>
      <app:lovreferanse>6</app:lovreferanse>
      <app:lovreferanseBeskrivelse>lovref</app:lovreferanseBeskrivelse>
      <app:prosesshistorie>prosess</app:prosesshistorie>
      <app:informasjon>informasjon</app:informasjon>
      <app:link>link</app:link>
      <app:rpOmråde xlink:type="simple" xlink:href="#_2bd91caa-fac0-449a-9185-4caf712d613a" />
    </app:Arealplan>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpFormålGrense gml:id="_df9d57e3-0516-49bc-8ee6-70641448d778" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>6ed39287-475f-441a-b18c-c616f5f8c956</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>59b31980-1ecb-4aad-8980-94fd44ab37ab</app:versjonId>
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
      <app:grense>
        <gml:Curve gml:id="_041357d2-c5d2-48c7-978a-7186200edcd9" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:segments>
            <gml:Arc>
              <gml:pos>-13222.0139179872 196669.690302028</gml:pos>
              <gml:pos>-13230.7496883762 196705.698553552</gml:pos>
              <gml:pos>-13255.0146730642 196733.700667404</gml:pos>
            </gml:Arc>
          </gml:segments>
        </gml:Curve>
      </app:grense>
    </app:RpFormålGrense>
  </gml:featureMember>
</gml:FeatureCollection>  