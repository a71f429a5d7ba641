<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0" xmlns:sc="http://www.interactive-instruments.de/ShapeChange/AppInfo" xmlns="http://www.w3.org/2001/XMLSchema" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0 http://skjema.geonorge.no/SOSITEST/produktspesifikasjon/Reguleringsplanforslag/5.0/reguleringsplanforslag-5.0.xsd" gml:id="_5773d736-a958-4ba5-9bcb-92891ba2698f">
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
      <app:rpOmråde xlink:type="simple" xlink:href="rpf.xlink.1-2D.gml#_d23f6d0c-ac1d-4857-b2fc-a8501e014dfb" />
    </app:Arealplan>
  </gml:featureMember>
  <gml:featureMember>
    <app:RpRegulertTerreng gml:id="_6f28752d-71da-48ee-84f1-41b785b10f44" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>9f1792f5-1325-4256-9853-261f9f37885b</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>229e6671-8a72-4b11-a0d4-3b91a7d3fbbc</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2021-01-08T00:00:00.000</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2021-01-08T00:00:00.000</app:oppdateringsdato>
      <app:kvalitet>
        <app:Posisjonskvalitet>
          <app:målemetode>frihåndstegningPåSkjerm</app:målemetode>
          <app:nøyaktighet>0</app:nøyaktighet>
        </app:Posisjonskvalitet>
      </app:kvalitet>
      <app:overflate>
        <gml:TriangulatedSurface gml:id="_x0031_9c13788-f0dd-487e-a3c1-6e46d312ab57" srsDimension="3">
          <gml:name>Planert_terreng_H140_10</gml:name>
          <gml:patches>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484990.45 6477158.40 2.5 484985.12 6477158.16 2.3 484993.40 6477154.10 2.3 484990.45 6477158.40 2.5</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484990.45 6477158.40 2.5 484988.53 6477159.54 2.5 484985.12 6477158.16 2.3 484990.45 6477158.40 2.5</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484993.40 6477154.10 2.3 484995.64 6477153.82 2.5 484990.45 6477158.40 2.5 484993.40 6477154.10 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484985.12 6477158.16 2.3 484988.53 6477159.54 2.5 484986.34 6477159.93 2.5 484985.12 6477158.16 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484985.12 6477158.16 2.3 484986.34 6477159.93 2.5 484984.44 6477159.64 2.5 484985.12 6477158.16 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484985.12 6477158.16 2.3 484984.44 6477159.64 2.5 484982.53 6477158.64 2.5 484985.12 6477158.16 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484985.12 6477158.16 2.3 484982.53 6477158.64 2.5 484981.92 6477158.07 2.5 484985.12 6477158.16 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484985.12 6477158.16 2.3 484981.92 6477158.07 2.5 484988.22 6477155.13 2.5 484985.12 6477158.16 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484985.12 6477158.16 2.3 484988.22 6477155.13 2.5 484993.40 6477154.10 2.3 484985.12 6477158.16 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">484993.40 6477154.10 2.3 484988.22 6477155.13 2.5 484994.53 6477152.19 2.5 484993.40 6477154.10 2.3</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">485000.83 6477149.24 2.5 484993.40 6477154.10 2.3 484994.53 6477152.19 2.5 485000.83 6477149.24 2.5</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
            <gml:Triangle>
              <gml:exterior>
                <gml:LinearRing>
                  <gml:posList srsDimension="3">485000.83 6477149.24 2.5 484995.64 6477153.82 2.5 484993.40 6477154.10 2.3 485000.83 6477149.24 2.5</gml:posList>
                </gml:LinearRing>
              </gml:exterior>
            </gml:Triangle>
          </gml:patches>
        </gml:TriangulatedSurface>
      </app:overflate>
      <app:overflateType>høyeste</app:overflateType>
      <app:toleranse>0</app:toleranse>
      <app:bestemmelseOmråde xlink:type="simple" xlink:href="#_c2440206-9c33-4c0a-9ac4-ede052c748b7" />
    </app:RpRegulertTerreng>
  </gml:featureMember>
</gml:FeatureCollection>