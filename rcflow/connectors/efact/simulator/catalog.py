"""Static vocabulary for the seeded dataset: public bodies, towns, names, goods and reasons."""

from __future__ import annotations

from typing import NamedTuple


class EntitySeed(NamedTuple):
    name: str
    cif_letter: str
    cif_body: str  # 7 digits; the check character is computed
    ine10: str
    dir3_prefix: str  # the accounting office family, e.g. L01 + INE6
    town: str
    postcode: str
    province: str
    weight: int  # relative invoice volume


# Fictional public bodies shaped like Catalan ones (valid CIFs are computed from these bodies).
ENTITIES: tuple[EntitySeed, ...] = (
    EntitySeed("Ajuntament de Castellví de Riubrava", "P", "0830700", "0830700004",
               "L01083070", "Castellví de Riubrava", "08732", "Barcelona", 30),
    EntitySeed("Consorci de Residus del Vallès Nord", "Q", "0801552", "0819300086",
               "LA0003241", "Granollers", "08401", "Barcelona", 12),
    EntitySeed("Ajuntament de Sant Martí de l'Estany", "P", "1718200", "1718200001",
               "L01171820", "Sant Martí de l'Estany", "17160", "Girona", 22),
    EntitySeed("Consell Comarcal de la Vall d'Àneu", "P", "2500047", "2590400007",
               "L07250047", "Esterri d'Àneu", "25580", "Lleida", 10),
    EntitySeed("Servei Territorial d'Obres Públiques a l'Ebre", "S", "4300112", "4315500002",
               "A09006123", "Tortosa", "43500", "Tarragona", 8),
    EntitySeed("Institut Municipal d'Educació de Riubrava", "Q", "0800613", "0830700108",
               "LA0007716", "Castellví de Riubrava", "08732", "Barcelona", 9),
    EntitySeed("Universitat Pública de l'Empordà", "Q", "1700421", "1706600050",
               "U04700011", "Figueres", "17600", "Girona", 14),
    EntitySeed("Patronat de Turisme Costa Daurada", "Q", "4300867", "4314800038",
               "LA0011402", "Salou", "43840", "Tarragona", 6),
)

OFFICE_NAMES = (
    ("Intervenció General", "Àrea de Serveis Econòmics", "Unitat de Comptabilitat"),
    ("Intervenció", "Àrea de Territori i Obres", "Secció de Contractació"),
    ("Oficina Comptable", "Àrea de Serveis a les Persones", "Unitat de Gestió Educativa"),
)

TOWNS = (
    ("Barcelona", "08013", "Barcelona"), ("Sabadell", "08201", "Barcelona"),
    ("Girona", "17002", "Girona"), ("Lleida", "25006", "Lleida"),
    ("Tarragona", "43003", "Tarragona"), ("Reus", "43201", "Tarragona"),
    ("Vic", "08500", "Barcelona"), ("Manresa", "08241", "Barcelona"),
    ("Figueres", "17600", "Girona"), ("La Seu d'Urgell", "25700", "Lleida"),
    ("Terrassa", "08221", "Barcelona"), ("Olot", "17800", "Girona"),
    ("Zaragoza", "50001", "Zaragoza"), ("Madrid", "28013", "Madrid"),
    ("València", "46002", "València"), ("Castelló de la Plana", "12001", "Castelló"),
)

STREETS = (
    "Carrer Major", "Avinguda de la Generalitat", "Plaça de l'Església", "Carrer de Sant Jaume",
    "Passeig de la Rambla", "Carrer de la Indústria", "Polígon Industrial Can Roqueta, nau",
    "Carrer d'Àngel Guimerà", "Ronda de Sant Pere", "Carrer del Comerç", "Camí Ral",
    "Avinguda Diagonal", "Carrer de Núria", "Travessera de Gràcia",
)

COMPANY_STEMS = (
    "Construccions Fàbregas", "Gràfiques Núñez", "Neteges Integrals del Ter", "Serveis Ambientals Ebre",
    "Electricitat Puigdemont", "Jardineria L'Àliga d'Or", "Transports Sabaté", "Informàtica Pirinenca",
    "Subministraments Oñate", "Fusteria Çanet", "Enginyeria Ribagorça", "Papereria La Plaça",
    "Asfalts i Paviments Osona", "Mobiliari Urbà Mediterrani", "Seguretat Vigilància Garrotxa",
    "Climatització Ñandú", "Llibreria Pompeu Fabra", "Càtering Escolar El Rebost",
    "Aigües i Sanejament del Segrià", "Consultoria Jurídica Bové", "Il·luminació Lleidatana",
    "Ferreteria Cal Pitu", "Traduccions Babel·la", "Impremta Øresund Ibèrica",
)
COMPANY_FORMS = {
    "A": ("S.A.", "SA"), "B": ("S.L.", "SL", "S.L.U."), "F": ("SCCL", "S. Coop."),
    "G": ("Associació", "Fundació"), "J": ("SCP",), "U": ("UTE",), "R": ("",),
}
GIVEN_NAMES = (
    "Jordi", "Núria", "Montserrat", "Pere", "Maria José", "Àlex", "Mireia", "Josep Maria",
    "Íngrid", "Joan", "Laia", "Xavier", "Raül", "Begoña", "Iñaki", "Zoë", "Ferran", "Ció",
)
SURNAMES = (
    "Puig", "Solé", "Ferrer", "Pañella", "Vidal", "Iñíguez", "Casals", "Sabaté", "Rovira",
    "Garcia", "Martínez", "Çelik", "Müller", "Ollé", "Bové", "Grau", "Ribas", "Mañé", "Llull",
)
FOREIGN_COMPANIES = {
    "DE": ("Müller & Söhne GmbH", "Straßenbau Köln AG", "Büro Technik GmbH"),
    "FR": ("Société Générale d'Éclairage SARL", "Énergies du Roussillon SAS", "Métallerie Côté Sud"),
    "IT": ("Forniture Pubbliche Città S.r.l.", "Edilizia Ligure S.p.A."),
    "PT": ("Serviços Técnicos Açores Lda.", "Construções do Minho, S.A."),
    "NL": ("Groenvoorziening Van der Berg B.V.",),
    "BE": ("Équipements Urbains Liège SPRL",),
}
FOREIGN_ADDRESSES = {
    "DE": ("Hauptstraße 12", "50667 Köln", "Nordrhein-Westfalen", "DEU"),
    "FR": ("12 rue de la République", "66000 Perpignan", "Pyrénées-Orientales", "FRA"),
    "IT": ("Via Roma 45", "16121 Genova", "Liguria", "ITA"),
    "PT": ("Rua Augusta 100", "1100-053 Lisboa", "Lisboa", "PRT"),
    "NL": ("Keizersgracht 200", "1016 DW Amsterdam", "Noord-Holland", "NLD"),
    "BE": ("Rue Léopold 7", "4000 Liège", "Liège", "BEL"),
}

# (description, unit price range in cents, usual VAT rate)
GOODS = (
    ("Servei de neteja d'equipaments municipals", (15_000, 900_000), 21),
    ("Manteniment de l'enllumenat públic", (8_000, 400_000), 21),
    ("Subministrament de paper DIN A4 (caixa)", (1_800, 4_500), 21),
    ("Menú escolar (àpat)", (450, 800), 10),
    ("Llibres per a la biblioteca municipal", (900, 6_000), 4),
    ("Reparació de voreres, m²", (2_500, 9_000), 21),
    ("Hores de consultoria tècnica", (4_500, 12_000), 21),
    ("Transport adaptat, servei diari", (6_000, 25_000), 10),
    ("Recollida selectiva de residus, tona", (3_000, 14_000), 10),
    ("Llicències de programari (anual)", (20_000, 600_000), 21),
    ("Material de senyalització viària", (1_500, 60_000), 21),
    ("Subministrament d'aigua potable, m³", (90, 400), 10),
    ("Revistes i publicacions periòdiques", (300, 2_500), 4),
    ("Assessorament jurídic, hores", (6_000, 15_000), 21),
    ("Activitats extraescolars, sessió", (2_000, 8_000), 21),
)
UNITS = ("01", "02", "03", "05", "10", "25")  # units, hours, kg, m², boxes, m³

RCF_REJECTIONS = (
    ("E01", "No s'ha especificat el número d'expedient"),
    ("E02", "L'import no coincideix amb el de la comanda"),
    ("E03", "Factura duplicada"),
    ("E04", "El proveïdor no és adjudicatari del contracte"),
    ("E05", "Manca la conformitat de la unitat tramitadora"),
    ("E06", "Codis DIR3 incorrectes"),
)
HUB_REJECTIONS = (
    ("V101", "La signatura electrònica de la factura no és vàlida"),
    ("V204", "El NIF del receptor no correspon a cap ens adherit"),
    ("V310", "Factura duplicada: ja existeix una factura amb el mateix número i proveïdor"),
    (None, "L'oficina comptable indicada no existeix al directori DIR3"),
)

ATTACHMENT_NAMES = {
    "pdf": ("factura.pdf", "1.pdf", "2.pdf", "albarà_{n}.pdf", "certificació d'obra {n}.pdf",
            "Memòria tècnica.pdf", "escaneig_{n}.PDF", "contracte signat.pdf"),
    "xlsx": ("detall_hores.xlsx", "1.xlsx", "relació valorada {n}.xlsx"),
    "docx": ("informe de conformitat.docx", "annex {n}.docx"),
    "png": ("plànol_situació.png", "captura {n}.png"),
    "jpeg": ("foto_entrega.jpg", "IMG_{n}.JPG", "fotografia obra.jpeg"),
    "zip": ("annexos.zip", "documentació_{n}.zip"),
    "xml": ("comanda_{n}.xml", "albarà_electrònic.xml"),
    "txt": ("observacions.txt", "llegiu-me.txt"),
    "bin": ("dades_{n}.dat", "fitxer.bin"),
}
HOSTILE_ATTACHMENT_NAMES = (
    "../../etc/passwd",
    "..\\..\\win.ini",
    "/etc/shadow",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "factura\x00.pdf.exe",
    "nota\x07\x1b[31mvermella\x1b[0m.txt",
    "a" * 300 + ".pdf",
    "\u202efdp.exe",  # right-to-left override
    "ﬁtxer 🧾 ünïcødé – «còpia».pdf",
    "..",
    "CON",
    " ",
)
