#!/usr/bin/env python3
"""Writes the dialect fixtures (design.md §8.8): leavers as four school systems
export them, each a cohort 2024-2025 handed to 25LZ00. Rerun after a change;
the files are committed as bytes, since the point is their exact bytes
(separator, BOM, CRLF, Windows-1252, trailing separators).

  python3 tests/data/make_dialects.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, text, encoding, bom=False):
    with open(os.path.join(HERE, name), "wb") as f:
        if bom:
            f.write(b"\xef\xbb\xbf")
        f.write(text.encode(encoding))


# Magister: ';', UTF-8 with BOM, CRLF, dd-mm-yyyy, Dutch headers, a class and a
# mentor column, Excel's empty trailing columns on every line.
write("leavers_magister.csv", "\r\n".join([
    "Leerlingnummer;BSN;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Klas;Mentor;"
    "Opleiding;Schooljaar;Datum uitschrijving;Bestemming;BRIN bestemming;Advies;"
    "Advies opgevolgd;;;",
    "M001;111222333;Jan;de;Vries;14-03-2008;4B;Pietersen;vmbo BB;2024/2025;01-07-2025;"
    "mbo-2;25LZ00;mbo-2;ja;;;",
    "M002;123456782;Sanne;van der;Berg;02-11-2008;4B;Pietersen;VMBO-KB;2024/2025;"
    "30-06-2025;niveau 3;25LZ00;mbo 3/4;Nee;;;",
    "M003;101234567;Özlem;;Yılmaz;29-02-2008;4C;de Wit;PrO;2024/2025;04-07-2025;Entree;"
    "25LZ00;Entree;ja;;;",
    ";;;;;;;;;;;;;;;;;",
    ""]), "utf-8", bom=True)

# SOMtoday: ',', every field quoted, UTF-8 without BOM, LF, D/M/YYYY, other
# Dutch names (Voornaam, Voorvoegsel, BSN/PGN, Leerweg, Cohort), a group column.
write("leavers_somtoday.csv", "\n".join([
    '"Leerlingnummer","Voornaam","Voorvoegsel","Achternaam","Geboortedatum","BSN/PGN",'
    '"Leerweg","Cohort","Uitschrijfdatum","Vervolgbestemming","Vervolginstelling",'
    '"Referentieniveau taal","Referentieniveau rekenen","Stamgroep"',
    '"S101","Noah","van","Dijk","3/5/2008","111222345","GL/TL","2024-2025","1/7/2025",'
    '"MBO-4","25LZ00","2F","1f","V4a"',
    '"S102","Fleur","","Jansen","17/9/2007","111222357","Havo","2024-2025","15/6/2025",'
    '"mbo 4","25LZ00","3F","2f","H5b"',
    ""]), "utf-8")

# ParnasSys ((V)SO): ';', Windows-1252 with é, ë, ç in the names, CRLF,
# dd-mm-yyyy, Onderwijsnummer, Onderwijssoort, an empty header at the end.
write("leavers_parnassys.csv", "\r\n".join([
    "Leerlingnummer;Onderwijsnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;"
    "Onderwijssoort;Schooljaar;Uitschrijfdatum;Bestemming;BRIN bestemming;Groep;",
    "P201;111222369;Zoë;van 't;Hoff;21-01-2008;VSO arbeid;2024-2025;03-07-2025;Entree;"
    "25LZ00;Sterrengroep;",
    "P202;111222370;Chloé;;Françoise-Çelik;08-08-2007;vso-vervolg;2024-2025;"
    "20-06-2025;MBO-2;25LZ00;Maangroep;",
    ""]), "cp1252")

# Eduarte: TAB, UTF-8, ISO dates, capitals in the header, both Voornamen and
# Roepnaam (Roepnaam wins), Excel's trailing tabs.
write("leavers_eduarte.tsv", "\n".join([
    "LEERLINGNUMMER\tVoornamen\tRoepnaam\tVoorvoegsel\tAchternaam\tGeboortedatum\t"
    "Opleiding\tCohort\tUitschrijfdatum\tBestemming\tInstelling\tBSN\t\t",
    "E301\tJohannes Petrus\tHans\tvan den\tBerg\t2008-05-06\tVMBO TL\t2024-2025\t"
    "2025-07-11\tmbo_3_4\t25LZ00\t111222382\t\t",
    "E302\tMaria\tMaria\tde la\tCruz\t2007-12-24\tpraktijkonderwijs\t2024-2025\t"
    "2025-07-11\tENTREE\t25LZ00\t111222394\t\t",
    ""]), "utf-8")
