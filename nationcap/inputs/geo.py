"""Japanese administrative geography used by the input contract.

The 47 prefectures use their common English names (no "-ken"/"-fu"/"-to" suffix), in the
official JIS X 0401 order. The 20 designated cities (seirei shitei toshi) run their own
environmental programmes and can act as ``administrator`` of a regional installation.

Japanese names. Every prefecture and designated city also has its official name in kanji
(:data:`PREFECTURES_JA`, :data:`DESIGNATED_CITIES_JA`: ``東京都``, ``大阪府``, ``横浜市``); the
input tables accept these in place of the English names and read them as the English name
(:func:`canonical_place`), so ``東京都`` and ``Tokyo`` are one prefecture. The names are those of
the Geospatial Information Authority of Japan's list of prefectures and municipalities
(https://www.gsi.go.jp/KOKUJYOHO/MENCHO-title.htm) and the Cabinet Office's list of designated
cities (https://www.soumu.go.jp/main_sosiki/jichi_gyousei/bunken/shitei_toshi-ichiran.html).
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

#: prefecture (English, as in :data:`PREFECTURES`) -> its official name in kanji
PREFECTURES_JA: dict[str, str] = {
    "Hokkaido": "北海道",
    "Aomori": "青森県",
    "Iwate": "岩手県",
    "Miyagi": "宮城県",
    "Akita": "秋田県",
    "Yamagata": "山形県",
    "Fukushima": "福島県",
    "Ibaraki": "茨城県",
    "Tochigi": "栃木県",
    "Gunma": "群馬県",
    "Saitama": "埼玉県",
    "Chiba": "千葉県",
    "Tokyo": "東京都",
    "Kanagawa": "神奈川県",
    "Niigata": "新潟県",
    "Toyama": "富山県",
    "Ishikawa": "石川県",
    "Fukui": "福井県",
    "Yamanashi": "山梨県",
    "Nagano": "長野県",
    "Gifu": "岐阜県",
    "Shizuoka": "静岡県",
    "Aichi": "愛知県",
    "Mie": "三重県",
    "Shiga": "滋賀県",
    "Kyoto": "京都府",
    "Osaka": "大阪府",
    "Hyogo": "兵庫県",
    "Nara": "奈良県",
    "Wakayama": "和歌山県",
    "Tottori": "鳥取県",
    "Shimane": "島根県",
    "Okayama": "岡山県",
    "Hiroshima": "広島県",
    "Yamaguchi": "山口県",
    "Tokushima": "徳島県",
    "Kagawa": "香川県",
    "Ehime": "愛媛県",
    "Kochi": "高知県",
    "Fukuoka": "福岡県",
    "Saga": "佐賀県",
    "Nagasaki": "長崎県",
    "Kumamoto": "熊本県",
    "Oita": "大分県",
    "Miyazaki": "宮崎県",
    "Kagoshima": "鹿児島県",
    "Okinawa": "沖縄県",
}

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

#: designated city (English, as in :data:`DESIGNATED_CITIES`) -> its official name in kanji
DESIGNATED_CITIES_JA: dict[str, str] = {
    "Sapporo": "札幌市",
    "Sendai": "仙台市",
    "Saitama City": "さいたま市",
    "Chiba City": "千葉市",
    "Kawasaki": "川崎市",
    "Yokohama": "横浜市",
    "Sagamihara": "相模原市",
    "Niigata City": "新潟市",
    "Shizuoka City": "静岡市",
    "Hamamatsu": "浜松市",
    "Nagoya": "名古屋市",
    "Kyoto City": "京都市",
    "Osaka City": "大阪市",
    "Sakai": "堺市",
    "Kobe": "神戸市",
    "Okayama City": "岡山市",
    "Hiroshima City": "広島市",
    "Kitakyushu": "北九州市",
    "Fukuoka City": "福岡市",
    "Kumamoto City": "熊本市",
}

#: administrator value of entities in a nationally run market
NATIONAL_ADMINISTRATOR = "national"


def _short(name: str) -> str:
    """A prefecture's kanji name without its suffix (都, 府, 県), as it is often written: 東京, 大阪."""
    return name[:-1] if name[-1] in "都府県" else name


#: every name read as a place: the English names themselves, the official kanji names, and the
#: kanji names of prefectures without their suffix (東京, 大阪; 北海道 keeps its name)
PLACE_ALIASES: dict[str, str] = {
    **{p: p for p in PREFECTURES},
    **{c: c for c in DESIGNATED_CITIES},
    **{ja: en for en, ja in PREFECTURES_JA.items()},
    **{_short(ja): en for en, ja in PREFECTURES_JA.items()},
    **{ja: en for en, ja in DESIGNATED_CITIES_JA.items()},
}


def canonical_place(name: str) -> str:
    """The English name of a prefecture or designated city written in English or in kanji
    (``"東京都"``, ``"東京"`` and ``"Tokyo"`` -> ``"Tokyo"``; ``"横浜市"`` -> ``"Yokohama"``);
    any other text is returned unchanged (it is then checked, or refused, as it stands)."""
    return PLACE_ALIASES.get(name, name)


assert len(PREFECTURES) == 47 == len(PREFECTURES_JA)
assert set(DESIGNATED_CITIES) == set(DESIGNATED_CITIES_JA)
