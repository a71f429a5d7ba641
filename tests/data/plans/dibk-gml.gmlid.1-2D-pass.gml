<?xml version="1.0" encoding="utf-8"?>
<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0" xmlns:sc="http://www.interactive-instruments.de/ShapeChange/AppInfo" xmlns="http://www.w3.org/2001/XMLSchema" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0 http://skjema.geonorge.no/SOSITEST/produktspesifikasjon/Reguleringsplanforslag/5.0/reguleringsplanforslag-5.0.xsd" gml:id="_1bbec980-7f9c-4138-b4d7-abe88f44c9a0">
  <gml:boundedBy>
    <gml:Envelope srsName="http://www.opengis.net/def/crs/EPSG/0/25832" srsDimension="2">
      <gml:lowerCorner>484802.23001 6476862.90567807</gml:lowerCorner>
      <gml:upperCorner>485247.702504169 6477341.70996</gml:upperCorner>
    </gml:Envelope>
  </gml:boundedBy>
  <gml:featureMember>
    <app:Arealplan gml:id="_0e39744f-76e3-4171-bb8f-d3554c70ebb5" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>bd90b1ae-3635-4f94-9ad5-bd9b10c6d35f</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>491552e2-5eb2-4606-882a-06e2d78b9a36</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2021-01-06T00:00:00.000</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2021-01-06T00:00:00.000</app:oppdateringsdato>
      <app:kvalitet>
        <app:Posisjonskvalitet>
          <app:målemetode>frihåndstegningPåSkjerm</app:målemetode>
          <app:nøyaktighet>0</app:nøyaktighet>
        </app:Posisjonskvalitet>
      </app:kvalitet>
      <app:opphav>Arendal kommune - pilotprosjekt romlige planer</app:opphav>
      <app:arealplanId>
        <app:NasjonalArealplanId>
          <app:administrativEnhet>
            <app:AdministrativEnhetskode>
              <app:kommunenummer>4203</app:kommunenummer>
            </app:AdministrativEnhetskode>
          </app:administrativEnhet>
          <app:planidentifikasjon>09062018-2</app:planidentifikasjon>
        </app:NasjonalArealplanId>
      </app:arealplanId>
      <app:plantype>35</app:plantype>
      <app:plannavn>Områderegulering HIS</app:plannavn>
      <app:planstatus>2</app:planstatus>
      <app:lovreferanse>6</app:lovreferanse>
      <app:informasjon>DETTE ER EN EKSEMPEL- OG TESTPLAN. DENNE ER BASERT PÅ EN EKSISTERENDE OG REELL PLANSITUASJON, MEN ER TILPASSET OG JUSTERT FOR FORMÅLET OG REPRESENTERER IKKE FAKTISK PLAN</app:informasjon>
      <app:rpOmråde xlink:type="simple" xlink:href="#_ef872b4e-c1b7-40eb-b949-fdb0ca19c6aa" />
    </app:Arealplan>
  </gml:featureMember>  
  <gml:featureMember>
    <app:RpOmråde gml:id="_bf872b4e-c1b7-40eb-b949-fdb0ca19c6aa" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>3b7ddf75-ab5a-4a0b-8c89-ede5cf98c25f</app:lokalId>
          <app:navnerom>http://data.geonorge.no/4203/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>"2020-12-22 12:41:36.000000"</app:versjonId>
        </app:Identifikasjon>
      </app:identifikasjon>
      <app:førsteDigitaliseringsdato>2021-01-07T00:00:00.000</app:førsteDigitaliseringsdato>
      <app:oppdateringsdato>2021-01-07T00:00:00.000</app:oppdateringsdato>
      <app:kvalitet>
        <app:Posisjonskvalitet>
          <app:målemetode>frihåndstegningPåSkjerm</app:målemetode>
          <app:nøyaktighet>0</app:nøyaktighet>
        </app:Posisjonskvalitet>
      </app:kvalitet>
      <app:område>
        <gml:MultiSurface gml:id="_x0032_f67727e-3e41-4a9e-9aea-79ea687ce43f" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_0e39744f-76e3-4171-bb8f-a2d54c70ebb5">
              <gml:exterior>
                <gml:Ring>
                  <gml:curveMember>
                    <gml:Curve gml:id="_9e3323f1-b492-4c50-99fd-271244b2a21d">
                      <gml:segments>
                        <gml:LineStringSegment>
                          <gml:posList srsDimension="2">484805.960270972 6477245.44309935 484805.762060847 6477242.54813536 484805.758500472 6477242.49613419 484802.73484863 6477237.43504561 484802.23001 6477236.59003 484811.39001 6477230.56006 484812.51001 6477229.82996 484817.65997 6477226.43005 484812.32001 6477219.43005 484805.94 6477215.06006 484804.71997 6477214.22998 484805.531044804 6477213.05722715 484806.4 6477211.78 484805.942282336 6477210.71199212 484808.08497384 6477207.67872305 484808.491481265 6477207.10325691 484815.765985712 6477196.80521388 484822.487532791 6477187.93717678 484818.48999 6477184.37 484821.462414733 6477167.3704771 484821.471197367 6477167.32024855 484821.47998 6477167.27002 484824.996788525 6477166.52940426 484837.245 6477163.950015 484847.859085847 6477161.23962785 484850.726770091 6477160.50734297 484865.096414558 6477160.32590672 484867.653870148 6477158.28188696 484867.732375369 6477158.21914248 484868.422529736 6477157.66754378 484868.587365365 6477157.38135522 484869.056038095 6477156.91306432 484869.928869456 6477156.31879652 484871.572054701 6477155.20003278 484869.651908485 6477153.29870109 484869.724802924 6477153.25011268 484871.62 6477152.06006 484874.94 6477150.07996 484879.33002 6477147.53003 484885.34998 6477144.26001 484892.03003 6477140.31006 484897.19 6477137.05005 484902.96002 6477133.06006 484909.28998 6477128.40002 484916.42999 6477123.58997 484922.59998 6477119.76001 484926.46997 6477117.65002 484929.01001 6477116.5 484932.65002 6477115.10999 484936.22998 6477113.98999 484940.63 6477112.20996 484943.84998 6477110.45996 484946.16998 6477108.93005 484948.63 6477107.12 484952.45001 6477103.95996 484955.125 6477101.299985 484957.79999 6477098.64001 484961.34003 6477094.88 484965.59998 6477089.87 484970.69 6477083.96997 484974.35999 6477079.73999 484978.13 6477075.33997 484982.73999 6477069.67004 484987.20001 6477063.92004 484991.62 6477058.07996 484996.89001 6477050.93005 485000.09998 6477046.45996 485002.10999 6477044.02002 485003.34003 6477042.70996 485004.58002 6477041.40002 485005.880005 6477040.225035 485007.17999 6477039.05005 485010.40997 6477036.77002 485014.08002 6477034.69995 485019.02002 6477032.39001 485023.72998 6477030.33997 485028.63 6477028.64001 485033.88 6477027.09998 485039.19995 6477025.98999 485042.64001 6477025.48999 485046.07996 6477024.98999 485052.45996 6477023.95001 485058.58997 6477022.94 485064.31995 6477021.40997 485068.73999 6477019.96002 485070.31995 6477019.29999 485071.127477582 6477018.84897919 485071.43005 6477018.67999 485072.169644079 6477018.03074226 485072.32996 6477017.89001 485073.20996 6477016.85999 485073.73999 6477016.09998 485075.37 6477013.79999 485072.34998 6477009.96997 485067.93005 6477003.94 485067.513431587 6477003.35947701 485065.48999 6477000.53998 485061.92004 6476995.81 485056.85999 6476988.88 485048.18994 6476976.51001 485044.675287868 6476971.52165553 485048.709173108 6476968.66908141 485050.229584522 6476967.56696348 485050.71997 6476967.21997 485050.738843096 6476967.20166651 485052.51488767 6476965.47922324 485072.58997 6476946.01001 485091.03003 6476928.51001 485109.14 6476911.92 485127.63 6476894.59 485145.91003 6476876.87 485151.715339936 6476871.24251443 485153.932398636 6476869.09336719 485154.878231389 6476868.17650655 485155.266333384 6476867.65053677 485157.19995 6476865.03003 485158.520491539 6476862.90567807 485169.807779356 6476869.92209198 485174.92004 6476873.09998 485174.56995 6476876.66998 485210.73999 6476908.13 485213.120651154 6476909.88707106 485213.299514417 6476910.01672584 485212.91003 6476911.71002 485212.79353483 6476911.97000487 485210.888566399 6476916.22136547 485209.76001 6476918.73999 485210.040859226 6476921.38106526 485210.18005 6476922.69 485205.13 6476938.46997 485203.53497 6476944.964995 485201.93994 6476951.46002 485200.551036483 6476955.47133253 485199.07996 6476959.71997 485198.84998 6476962.32001 485196.81006 6476967.28998 485194.70996 6476971.34003 485192.37 6476975.02002 485189.93994 6476978.53003 485189.270819841 6476979.35402621 485191.205313288 6476980.92491762 485196.03632845 6476986.89468315 485199.751660192 6476984.39362654 485200.57996 6476983.87 485202.10999 6476983.21002 485203.43005 6476982.65002 485204.77002 6476982.33002 485206.31995 6476982.10999 485208.18994 6476982.14001 485210.45996 6476982.51001 485212.34998 6476983.04999 485214.41003 6476983.96997 485216 6476985.03003 485217.84998 6476986.62 485219.55005 6476988.29999 485221.07996 6476989.96997 485222.64001 6476991.95001 485224.09998 6476994.12 485225.95996 6476997.28998 485227.17004 6476999.63 485227.96997 6477001.38 485228.41003 6477002.59998 485229.64001 6477005.33002 485235.68005 6477022.17999 485239.605663167 6477033.62674298 485247.702504169 6477057.25440202 485247.18994 6477057.43005 485247.02 6477063.74903679 485247.02 6477078.56 485241.819162489 6477081.97719462 485241.287590331 6477082.28767987 485239.848915213 6477083.12799362 485229.374756211 6477089.24583066 485231.065801619 6477094.10428923 485225.190506868 6477097.36281622 485222.318180259 6477099.06393335 485219.688502555 6477100.62134322 485216.851135794 6477096.43305246 485216.197578389 6477095.46832401 485214.445338493 6477097.00066632 485206.19 6477104.22 485221.52 6477128.61 485201.887185091 6477141.3919277 485192.92004 6477147.22998 485197.23 6477158.07 485198.45 6477161.14 485198.54 6477161.36 485167.48 6477171.92 485140.36 6477124.06 485113.05005 6477146.10999 485087.43994 6477161.43005 485081.10999 6477169.03003 485067.77002 6477185.09998 485055.76001 6477198.44995 485051.42004 6477203.27002 485030.54004 6477220.38 485025.603904422 6477216.13174621 485022.78998 6477213.70996 485019.859568492 6477216.8029969 485018.876624416 6477217.8911261 485005.96002 6477232.18994 484995.81 6477259.59998 484994.71002 6477261.88 484997.140000684 6477277.80999892 484990.16 6477285.02 484986.167154604 6477289.16382771 484983.82208308 6477291.59757391 484946.26 6477330.58 484934.671128506 6477333.95722013 484931.016553934 6477334.61677977 484917.84003 6477337.07996 484916.588913633 6477337.32894352 484916.537975588 6477337.33908065 484908.249027996 6477338.98865649 484902.990013949 6477340.03524804 484900.079909956 6477340.19743056 484895.631008056 6477340.44537155 484890.17465568 6477340.7494586 484882.637577399 6477341.16950624 484872.940005 6477341.70996 484880.78998 6477329.45996 484887.699985 6477314.375 484894.60999 6477299.29004 484898.79999 6477275.13 484896.16998 6477253.06006 484893.84998 6477255.13 484885.71002 6477246.40002 484884.100005 6477248.059995 484882.48999 6477249.71997 484881.910737085 6477250.6525761 484876.695005 6477259.049985 484870.90002 6477268.38 484868.179996067 6477271.95997157</gml:posList>
                        </gml:LineStringSegment>
                        <gml:Arc>
                          <gml:posList srsDimension="2">484868.179996067 6477271.95997157 484854.758429994 6477278.74017317 484840.319985415 6477274.54006749</gml:posList>
                        </gml:Arc>
                        <gml:LineStringSegment>
                          <gml:posList srsDimension="2">484840.319985416 6477274.54006749 484833.71997 6477268.18005 484820.22998 6477253.08997 484817.77002 6477250.69995 484815.02002 6477248.47998</gml:posList>
                        </gml:LineStringSegment>
                        <gml:Arc>
                          <gml:posList srsDimension="2">484815.02002 6477248.47998 484810.791477342 6477246.06259391 484805.960270972 6477245.44309935</gml:posList>
                        </gml:Arc>
                      </gml:segments>
                    </gml:Curve>
                  </gml:curveMember>
                </gml:Ring>
              </gml:exterior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:vertikalnivå>2</app:vertikalnivå>
      <app:vertikallag>
        <app:VertikalLag>
          <app:lagnr>0</app:lagnr>
          <app:referansehøyde>0</app:referansehøyde>
        </app:VertikalLag>
      </app:vertikallag>
      <app:arealplan xlink:type="simple" xlink:href="#_1e39744f-76e3-4171-bb8f-d3554c70ebb5" />
      <app:bestemmelseOmråde xlink:type="simple" xlink:href="#_a2440206-9c33-4c0a-9ac4-ede052c748b7" />
    </app:RpOmråde>
  </gml:featureMember>  
  <gml:featureMember>
    <app:RpBestemmelseOmråde gml:id="_c2440206-9c33-4c0a-9ac4-ede052c748b7" xmlns:app="http://skjema.geonorge.no/SOSI/produktspesifikasjon/Reguleringsplanforslag/5.0">
      <app:identifikasjon>
        <app:Identifikasjon>
          <app:lokalId>b63c704a-a898-4b11-b548-2245037b3f62</app:lokalId>
          <app:navnerom>http://data.geonorge.no/0301/Reguleringsplaner/so</app:navnerom>
          <app:versjonId>74926295-f4be-466a-bcef-d4b1c274fc33</app:versjonId>
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
      <app:område>
        <gml:MultiSurface gml:id="_x0032_b2bf28e-3f52-41d3-bb82-620b00a510a2" srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:surfaceMember>
            <gml:Polygon gml:id="_f228f5a9-7aee-4164-a55f-26a43f65bac7">
              <gml:exterior>
                <gml:Ring>
                  <gml:curveMember>
                    <gml:Curve gml:id="_b28a143a-1b2f-4a5a-a988-400b39b80f75">
                      <gml:segments>
                        <gml:Arc>
                          <gml:posList srsDimension="2">484990.320654785 6477158.25733326 484987.568910891 6477159.61494459 484984.504875223 6477159.45096771</gml:posList>
                        </gml:Arc>
                        <gml:Arc>
                          <gml:posList srsDimension="2">484984.504875223 6477159.45096771 484983.307447197 6477158.92499012 484982.263176377 6477158.13759902</gml:posList>
                        </gml:Arc>
                        <gml:LineStringSegment>
                          <gml:posList srsDimension="2">484982.263176377 6477158.13759902 484999.665415108 6477150.01688946 484990.320654785 6477158.25733326</gml:posList>
                        </gml:LineStringSegment>
                      </gml:segments>
                    </gml:Curve>
                  </gml:curveMember>
                </gml:Ring>
              </gml:exterior>
            </gml:Polygon>
          </gml:surfaceMember>
        </gml:MultiSurface>
      </app:område>
      <app:bestemmelseHjemmel>1</app:bestemmelseHjemmel>
      <app:bestemmelseOmrådeNavn>
        <app:Feltkode>
          <app:tekststreng>#7</app:tekststreng>
        </app:Feltkode>
      </app:bestemmelseOmrådeNavn>
      <app:fagreferanse>
        <app:Fagreferanse>
          <app:kulturminneReferanse>
            <app:KulturminneReferanse>
              <app:kulturminneID>
                <app:Identifikasjon>
                  <app:lokalId></app:lokalId>
                  <app:navnerom></app:navnerom>
                </app:Identifikasjon>
              </app:kulturminneID>
              <app:sefrakID>
                <app:SefrakId>
                  <app:sefrakKommune></app:sefrakKommune>
                  <app:registreringKretsnr>0</app:registreringKretsnr>
                  <app:husLøpenr>0</app:husLøpenr>
                </app:SefrakId>
              </app:sefrakID>
              <app:løpenummer>0</app:løpenummer>
            </app:KulturminneReferanse>
          </app:kulturminneReferanse>
        </app:Fagreferanse>
      </app:fagreferanse>
      <app:planområde xlink:type="simple" xlink:href="#_cf872b4e-c1b7-40eb-b949-fdb0ca19c6aa" />
      <app:regulertTerreng xlink:type="simple" xlink:href="#_6f28752d-71da-48ee-84f1-41b785b10f44" />
    </app:RpBestemmelseOmråde>
  </gml:featureMember>
</gml:FeatureCollection>