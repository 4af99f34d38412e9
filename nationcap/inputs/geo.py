"""Japanese administrative geography used by the input contract.

The 47 prefectures use their common English names (no "-ken"/"-fu"/"-to" suffix), in the
official JIS X 0401 order. The 20 designated cities (seirei shitei toshi) run their own
environmental programmes and can act as ``administrator`` of a regional installation.
"""

PREFECTURES: tuple[str, ...] = (
    "Hokkaido",
    "Aomori",
    "Iwate",
    "Miyagi",
    "Akita",
    "Yamagata",
    "Fukushima",
    "Ibaraki",
    "Tochigi",
    "Gunma",
    "Saitama",
    "Chiba",
    "Tokyo",
    "Kanagawa",
    "Niigata",
    "Toyama",
    "Ishikawa",
    "Fukui",
    "Yamanashi",
    "Nagano",
    "Gifu",
    "Shizuoka",
    "Aichi",
    "Mie",
    "Shiga",
    "Kyoto",
    "Osaka",
    "Hyogo",
    "Nara",
    "Wakayama",
    "Tottori",
    "Shimane",
    "Okayama",
    "Hiroshima",
    "Yamaguchi",
    "Tokushima",
    "Kagawa",
    "Ehime",
    "Kochi",
    "Fukuoka",
    "Saga",
    "Nagasaki",
    "Kumamoto",
    "Oita",
    "Miyazaki",
    "Kagoshima",
    "Okinawa",
)

#: designated city -> the prefecture it lies in
DESIGNATED_CITIES: dict[str, str] = {
    "Sapporo": "Hokkaido",
    "Sendai": "Miyagi",
    "Saitama City": "Saitama",
    "Chiba City": "Chiba",
    "Kawasaki": "Kanagawa",
    "Yokohama": "Kanagawa",
    "Sagamihara": "Kanagawa",
    "Niigata City": "Niigata",
    "Shizuoka City": "Shizuoka",
    "Hamamatsu": "Shizuoka",
    "Nagoya": "Aichi",
    "Kyoto City": "Kyoto",
    "Osaka City": "Osaka",
    "Sakai": "Osaka",
    "Kobe": "Hyogo",
    "Okayama City": "Okayama",
    "Hiroshima City": "Hiroshima",
    "Kitakyushu": "Fukuoka",
    "Fukuoka City": "Fukuoka",
    "Kumamoto City": "Kumamoto",
}

#: administrator value of entities in a nationally run market
NATIONAL_ADMINISTRATOR = "national"

assert len(PREFECTURES) == 47
