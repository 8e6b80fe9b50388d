"""The static world the order generator draws from: the demo seller's catalogue and buyer addresses.

Platform-neutral on purpose: prices are in USD here and converted per market by the generator;
every platform emulator derives its own ids (ASIN, TikTok product/sku ids) from the SKU.
``synthetic_catalogue`` adds load-test SKUs that emulators accept stock for but orders never hold.
Addresses carry each country's real shape (JP in Japanese script, GB postcodes, DE umlauts, MX
colonias) so mapping code meets what production sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CatalogueItem:
    sku: str
    family: str  # the product a variant belongs to (one TikTok product, many skus)
    title: str
    base_price_usd: Decimal
    weight_g: int
    oversize: bool = False


def _family(code: str, name: str, price: str, weight: int, variants: tuple[str, ...],
            oversize: bool = False) -> list[CatalogueItem]:
    items = []
    for variant in variants or ("",):
        suffix = f"-{variant.upper().replace(' ', '')[:6]}" if variant else ""
        title = f"{name}, {variant}" if variant else name
        items.append(CatalogueItem(f"OH-{code}{suffix}", code, title, Decimal(price), weight, oversize))
    return items


CATALOGUE: tuple[CatalogueItem, ...] = tuple(
    _family("BCB", "Bamboo Cutting Board", "24.99", 1200, ("S", "M", "L"))
    + _family("SWB", "Stainless Water Bottle 750ml", "19.99", 420, ("Black", "White", "Sage", "Navy"))
    + _family("YGM", "Yoga Mat 6mm", "34.99", 1500, ("Purple", "Grey"))
    + _family("LDL", "LED Desk Lamp with USB-C", "39.99", 900, ("Black", "White"))
    + _family("CPO", "Ceramic Pour-Over Coffee Set", "29.99", 800, ())
    + _family("CTB", "Cotton Throw Blanket 130x170", "44.99", 1100, ("Grey", "Cream", "Rust"))
    + _family("FCC", "Foldable Camping Chair", "59.99", 4200, ("Green", "Black"), oversize=True)
    + _family("SDF", "Standing Desk Frame, Dual Motor", "329.00", 28000, (), oversize=True)
    + _family("STO", "Storage Ottoman 76cm", "89.99", 9500, ("Grey", "Navy"), oversize=True)
    + _family("WCP", "Wireless Charging Pad 15W", "21.99", 180, ("Black", "White"))
    + _family("SBM", "Silicone Baking Mats", "14.99", 300, ("Set of 2", "Set of 3"))
    + _family("KBB", "Kids Balance Bike 12in", "99.99", 3600, ("Red", "Blue"), oversize=True)
    + _family("CIS", "Cast Iron Skillet", "32.99", 2400, ("20cm", "25cm", "30cm"))
    + _family("MWS", "Merino Wool Socks, 3 Pairs", "27.99", 250, ("S", "M", "L", "XL"))
    + _family("PTR", "Phone Tripod with Remote", "18.99", 350, ())
    + _family("EKT", "Electric Kettle 1.7L", "49.99", 1300, ("Black", "Steel"))
    + _family("MFP", "Memory Foam Pillow", "39.99", 1400, ())
    + _family("RBS", "Resistance Bands Set", "22.99", 600, ())
    + _family("MPJ", "Mini Projector 1080p", "149.99", 1900, ())
    + _family("ACF", "Air Fryer 5.5L", "119.99", 5600, (), oversize=True)
)

SYNTHETIC_VARIANTS = "ABCDE"


def synthetic_catalogue(count: int) -> tuple[CatalogueItem, ...]:
    """``count`` extra SKUs (OH-GEN-00001-A ...) for stock-sync load tests, never for orders.

    Grouped in families of up to five variants so per-product batching (TikTok, TEMU, AliExpress)
    meets realistic product sizes; deterministic, so two emulators given the same count agree.
    """
    items = []
    for n in range(count):
        family_no, variant = divmod(n, len(SYNTHETIC_VARIANTS))
        code = f"GEN-{family_no + 1:05d}"
        letter = SYNTHETIC_VARIANTS[variant]
        items.append(CatalogueItem(f"OH-{code}-{letter}", code, f"Synthetic Product {family_no + 1:05d}, {letter}",
                                   Decimal(10 + family_no % 90) + Decimal("0.99"), 100 + 10 * (family_no % 50)))
    return tuple(items)


@dataclass(frozen=True)
class Market:
    country: str
    currency: str
    usd_rate: Decimal
    tax_rate: Decimal
    tax_included: bool  # VAT markets: prices include tax; US: sales tax is added on top
    shipping_fee: Decimal
    oversize_fee: Decimal


MARKETS: dict[str, Market] = {
    "US": Market("US", "USD", Decimal("1"), Decimal("0.0825"), False, Decimal("5.99"), Decimal("19.99")),
    "GB": Market("GB", "GBP", Decimal("0.79"), Decimal("0.20"), True, Decimal("3.99"), Decimal("14.99")),
    "DE": Market("DE", "EUR", Decimal("0.92"), Decimal("0.19"), True, Decimal("4.99"), Decimal("19.99")),
    "FR": Market("FR", "EUR", Decimal("0.92"), Decimal("0.20"), True, Decimal("4.99"), Decimal("19.99")),
    "JP": Market("JP", "JPY", Decimal("150"), Decimal("0.10"), True, Decimal("500"), Decimal("2200")),
    "MX": Market("MX", "MXN", Decimal("17.5"), Decimal("0.16"), True, Decimal("99"), Decimal("349")),
}

MINOR_UNITS = {"USD": 2, "GBP": 2, "EUR": 2, "JPY": 0, "MXN": 2}


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (JPY has none)."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]))


@dataclass(frozen=True)
class City:
    city: str
    region: str  # state / county / prefecture / estado
    postcodes: tuple[str, ...]


@dataclass(frozen=True)
class CountryBook:
    given_names: tuple[str, ...]
    family_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[City, ...]
    phone_format: str  # "#" becomes a digit
    family_name_first: bool = False


ADDRESS_BOOKS: dict[str, CountryBook] = {
    "US": CountryBook(
        ("James", "Maria", "Robert", "Jennifer", "Michael", "Linda", "David", "Aisha", "Carlos", "Emily"),
        ("Smith", "Johnson", "Garcia", "Williams", "Brown", "Nguyen", "Rodriguez", "Miller", "Davis", "Lee"),
        ("{n} Maple Street", "{n} Oak Avenue", "{n} Sunset Blvd", "{n} Washington Ave", "{n} Pine Road"),
        (City("Los Angeles", "CA", ("90012", "90026", "90049")), City("Austin", "TX", ("78701", "78745")),
         City("Seattle", "WA", ("98101", "98115")), City("Brooklyn", "NY", ("11201", "11215")),
         City("Chicago", "IL", ("60614", "60622")), City("Miami", "FL", ("33130", "33139"))),
        "+1 ###-555-####",
    ),
    "GB": CountryBook(
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Priya", "Jack", "Sophie"),
        ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Patel", "Thomas", "Roberts", "O'Brien"),
        ("{n} High Street", "Flat {n}, Victoria Road", "{n} Church Lane", "{n} Station Road"),
        (City("London", "Greater London", ("SW1A 2AA", "EC1A 1BB", "N1 9GU")),
         City("Manchester", "Greater Manchester", ("M1 1AE", "M4 6WX")),
         City("Birmingham", "West Midlands", ("B33 8TH", "B1 1BB")),
         City("Leeds", "West Yorkshire", ("LS1 4AP", "LS6 2QD"))),
        "+44 7700 9#####",
    ),
    "DE": CountryBook(
        ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Jürgen", "Sophie", "Mehmet", "Hannah"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Schäfer", "Becker", "Yılmaz", "Koch", "Wagner"),
        ("Hauptstraße {n}", "Bahnhofstraße {n}", "Gartenweg {n}", "Schillerstraße {n}", "Am Markt {n}"),
        (City("Berlin", "Berlin", ("10115", "10437", "12047")), City("München", "Bayern", ("80331", "80799")),
         City("Hamburg", "Hamburg", ("20095", "22765")), City("Köln", "Nordrhein-Westfalen", ("50667", "50823")),
         City("Frankfurt am Main", "Hessen", ("60311", "60594"))),
        "+49 30 #######",
    ),
    "FR": CountryBook(
        ("Lucas", "Emma", "Hugo", "Léa", "Louis", "Chloé", "Gabriel", "Inès", "Arthur", "Manon"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Lefèvre", "Moreau"),
        ("{n} rue de la République", "{n} avenue Victor Hugo", "{n} boulevard Voltaire", "{n} rue des Lilas"),
        (City("Paris", "Île-de-France", ("75008", "75011", "75015")),
         City("Lyon", "Auvergne-Rhône-Alpes", ("69002", "69003")),
         City("Marseille", "Provence-Alpes-Côte d'Azur", ("13001", "13006")),
         City("Toulouse", "Occitanie", ("31000", "31400"))),
        "+33 6 ## ## ## ##",
    ),
    "JP": CountryBook(
        ("太郎", "花子", "翔", "さくら", "健太", "美咲", "大輔", "陽菜"),
        ("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村"),
        ("神南{n}-2-3", "道玄坂{n}-10-1", "西新宿{n}-8-1", "梅田{n}-1-3", "栄{n}-5-12"),
        (City("渋谷区", "東京都", ("150-0041", "150-0043")), City("新宿区", "東京都", ("160-0023",)),
         City("大阪市北区", "大阪府", ("530-0001", "530-0017")), City("名古屋市中区", "愛知県", ("460-0008",))),
        "090-####-####",
        family_name_first=True,
    ),
    "MX": CountryBook(
        ("José", "María", "Juan", "Guadalupe", "Luis", "Fernanda", "Miguel", "Sofía", "Diego", "Valeria"),
        ("Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez"),
        ("Av. Insurgentes Sur {n}", "Calle Durango {n}", "Av. Chapultepec {n}", "Calle Morelos {n}"),
        (City("Ciudad de México", "CDMX", ("06700", "03100")), City("Guadalajara", "Jalisco", ("44100", "44600")),
         City("Monterrey", "Nuevo León", ("64000", "64060")), City("Puebla", "Puebla", ("72000",))),
        "+52 55 #### ####",
    ),
}

# Second address lines and their likelihood, per country (MX colonias are almost always present).
SECOND_LINES: dict[str, tuple[float, tuple[str, ...]]] = {
    "US": (0.3, ("Apt {n}B", "Suite {n}", "Unit {n}")),
    "GB": (0.2, ("Flat {n}", "Apartment {n}")),
    "DE": (0.15, ("c/o Hinterhaus", "{n}. OG")),
    "FR": (0.25, ("Bâtiment B", "Appartement {n}", "Escalier {n}")),
    "JP": (0.5, ("コーポ渋谷{n}号室", "グランドタワー{n}F")),
    "MX": (0.9, ("Col. Roma Norte", "Col. Condesa", "Col. Centro", "Int. {n}")),
}
