"""ISO-3166-1 alpha-2 country codes, and the English names some platforms send instead.

SHEIN reports `country` as a full English name and AliExpress sometimes does too; mapping modules
turn those into codes through `country_code_from_name` so that every canonical address holds a code.
"""

from __future__ import annotations

ALPHA2 = frozenset(["AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"])

# Names as marketplaces spell them, lower-cased; extend when a platform sends a new spelling.
_NAMES = {
    "united states": "US", "united states of america": "US", "usa": "US",
    "united kingdom": "GB", "great britain": "GB", "uk": "GB",
    "germany": "DE", "deutschland": "DE", "france": "FR", "japan": "JP", "mexico": "MX",
    "spain": "ES", "italy": "IT", "netherlands": "NL", "belgium": "BE", "poland": "PL",
    "austria": "AT", "ireland": "IE", "portugal": "PT", "sweden": "SE", "denmark": "DK",
    "finland": "FI", "czech republic": "CZ", "czechia": "CZ", "switzerland": "CH",
    "canada": "CA", "australia": "AU", "new zealand": "NZ", "brazil": "BR", "chile": "CL",
    "colombia": "CO", "saudi arabia": "SA", "united arab emirates": "AE", "korea": "KR",
    "south korea": "KR", "singapore": "SG", "malaysia": "MY", "philippines": "PH",
    "thailand": "TH", "vietnam": "VN", "indonesia": "ID", "china": "CN", "hong kong": "HK",
    "taiwan": "TW", "turkey": "TR", "israel": "IL", "norway": "NO", "greece": "GR",
    "hungary": "HU", "romania": "RO", "slovakia": "SK", "slovenia": "SI", "croatia": "HR",
    "bulgaria": "BG", "lithuania": "LT", "latvia": "LV", "estonia": "EE", "luxembourg": "LU",
    "kuwait": "KW", "qatar": "QA", "bahrain": "BH", "oman": "OM", "south africa": "ZA",
}


def is_country(code: object) -> bool:
    return isinstance(code, str) and code in ALPHA2


def country_code_from_name(name: str) -> str | None:
    """The alpha-2 code for a code or an English country name, or None when unknown."""
    text = name.strip()
    if text.upper() in ALPHA2:
        return text.upper()
    return _NAMES.get(text.lower())
