"""Vegetable name resolution: EN/FR/ES forms, plurals, typos, and names that must stay unresolved."""

from __future__ import annotations

import pytest

from salescast.ingest.names import (
    CANONICAL_VEGETABLES,
    LEXICON,
    NON_VEGETABLES,
    normalize_name,
    resolve_vegetable_name,
    vegetable_vocabulary,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tomate", "tomate"),
        ("  Pommes-de-Terre ", "pommes de terre"),
        ("JUDÍAS__verdes", "judias verdes"),
        ("céleri\trave", "celeri rave"),
        ("Maïs", "mais"),
        ("champiñón", "champinon"),
        ("chou--fleur!!", "chou fleur"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_name_casefolds_strips_accents_and_collapses_separators(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


POSITIVE_CASES: list[tuple[str, str]] = [
    # English, exact, any case, plural
    ("tomato", "tomato"),
    ("Tomatoes", "tomato"),
    ("POTATO", "potato"),
    ("carrots", "carrot"),
    ("Onions", "onion"),
    ("green beans", "green bean"),
    ("Sweet Potatoes", "sweet potato"),
    ("bell peppers", "bell pepper"),
    ("capsicum", "bell pepper"),
    ("eggplant", "eggplant"),
    ("aubergines", "eggplant"),
    ("zucchini", "zucchini"),
    ("courgettes", "zucchini"),
    ("Brussels sprouts", "brussels sprout"),
    ("radishes", "radish"),
    ("chilies", "chili pepper"),
    ("chillies", "chili pepper"),
    ("celery", "celery"),
    ("leeks", "leek"),
    ("peas", "pea"),
    ("corn", "corn"),
    ("maize", "corn"),
    ("Jerusalem artichokes", "jerusalem artichoke"),
    ("spring onions", "spring onion"),
    ("scallions", "spring onion"),
    # French, accents or not, plurals in -s and -x, multi-word plurals
    ("Pomme de terre", "potato"),
    ("pommes de terre", "potato"),
    ("POMMES DE TERRE", "potato"),
    ("pomme-de-terre", "potato"),
    ("haricot vert", "green bean"),
    ("haricots verts", "green bean"),
    ("haricot verts", "green bean"),
    ("patate douce", "sweet potato"),
    ("patates douces", "sweet potato"),
    ("poivron", "bell pepper"),
    ("poivrons", "bell pepper"),
    ("poireaux", "leek"),
    ("poireau", "leek"),
    ("choux", "cabbage"),
    ("chou", "cabbage"),
    ("choux-fleurs", "cauliflower"),
    ("chou de Bruxelles", "brussels sprout"),
    ("choux de bruxelles", "brussels sprout"),
    ("épinards", "spinach"),
    ("epinards", "spinach"),
    ("Céleri-rave", "celeriac"),
    ("celeri", "celery"),
    ("ail", "garlic"),
    ("aïl", "garlic"),
    ("maïs", "corn"),
    ("mais", "corn"),
    ("petits pois", "pea"),
    ("pois", "pea"),
    ("échalotes", "shallot"),
    ("betteraves", "beetroot"),
    ("navets", "turnip"),
    ("topinambours", "jerusalem artichoke"),
    # Spanish, regional variants, plurals in -s / -es / -ces
    ("patata", "potato"),
    ("papas", "potato"),
    ("jitomate", "tomato"),
    ("Jitomates", "tomato"),
    ("judía verde", "green bean"),
    ("judías verdes", "green bean"),
    ("JUDIAS VERDES", "green bean"),
    ("ejotes", "green bean"),
    ("batata", "sweet potato"),
    ("boniatos", "sweet potato"),
    ("camote", "sweet potato"),
    ("berenjena", "eggplant"),
    ("calabacín", "zucchini"),
    ("calabacines", "zucchini"),
    ("pimiento", "bell pepper"),
    ("pimientos morrones", "bell pepper"),
    ("elote", "corn"),
    ("choclos", "corn"),
    ("maíz", "corn"),
    ("maiz", "corn"),
    ("maíces", "corn"),
    ("frijoles", "bean"),
    ("porotos", "bean"),
    ("alubias", "bean"),
    ("col", "cabbage"),
    ("coles", "cabbage"),
    ("coles de Bruselas", "brussels sprout"),
    ("champiñones", "mushroom"),
    ("ajo", "garlic"),
    ("ají", "chili pepper"),
    ("nabo", "turnip"),
    ("zanahorias", "carrot"),
    ("espárragos", "asparagus"),
    ("alcachofas", "artichoke"),
    ("guisantes", "pea"),
    ("lechugas", "lettuce"),
    # stray spaces
    ("  tomato  ", "tomato"),
    ("pomme   de  terre", "potato"),
    (" judía  verde ", "green bean"),
    # typos: a letter missing
    ("tomat", "tomato"),
    ("onin", "onion"),
    ("pome de terre", "potato"),
    ("zanahria", "carrot"),
    ("berenjna", "eggplant"),
    ("aubergin", "eggplant"),
    ("poivon", "bell pepper"),
    ("cebola", "onion"),
    # typos: a letter doubled
    ("tomatto", "tomato"),
    ("pommme de terre", "potato"),
    ("zucchinni", "zucchini"),
    ("carrrot", "carrot"),
    ("lechugga", "lettuce"),
    ("poireeau", "leek"),
    # typos: two letters swapped
    ("tomaot", "tomato"),
    ("onoin", "onion"),
    ("pomem de terre", "potato"),
    ("brocolli", "broccoli"),
    ("zanahorai", "carrot"),
    ("concobmre", "cucumber"),
    ("berenejna", "eggplant"),
    # typos: a wrong letter
    ("potatu", "potato"),
    ("cucumbar", "cucumber"),
    ("haricots verds", "green bean"),
    ("calabacim", "zucchini"),
    ("épinord", "spinach"),
    ("cebollo", "onion"),
    # typo plus case, accents and plural together
    ("POMMES DE TERE", "potato"),
    ("Judias Verdez", "green bean"),
    ("Champinones", "mushroom"),
]


POSITIVE_CASES += [("chayote", "chayote"), ("Chayotes", "chayote"), ("christophine", "chayote")]


@pytest.mark.parametrize(("raw", "expected"), POSITIVE_CASES)
def test_resolves_known_vegetable_names(raw: str, expected: str) -> None:
    assert resolve_vegetable_name(raw) == expected


NEGATIVE_CASES: list[str] = [
    # fruits in three languages, and their plurals
    "apple", "pomme", "pommes", "manzana", "banana", "bananas", "plátano", "orange", "naranja", "pear",
    "poire", "poires", "pera", "grape", "raisin", "raisins", "uva", "lemon", "citron", "limón", "strawberry",
    "fraise", "fresa", "cherry", "cerise", "cereza", "peach", "pêche", "melocotón", "melon", "melón",
    "watermelon", "pastèque", "sandía", "pineapple", "ananas", "piña", "mango", "kiwi", "avocado", "aguacate",
    "olive", "coconut", "papaya", "fig", "figue",
    # fruit typos: closer to the fruit than to any vegetable
    "bananna", "strawbery", "poirre", "manzanna",
    # short words and near neighbours of vegetable names
    "pape", "cola", "poids", "mas", "nab", "radio", "union", "perro", "pimienta", "poivre", "champion",
    "berry", "maze", "chill", "card", "funnel", "palais", "puerto", "puerco", "rabino", "judío", "marron",
    "chocho", "pigment", "shallow", "stallion", "gaelic",
    # herbs and other foods
    "parsley", "persil", "perejil", "basil", "ginger", "rice", "arroz", "bread", "cheese",
    # ambiguous generic names left to an operator alias
    "squash", "courge", "salade",
    # random words, compound products, noise
    "table", "car", "voiture", "hello", "xyz", "tomato sauce", "sauce tomate", "potatoes-chips", "potato chips",
    "papas fritas", "frites", "tomatoes and onions", "vegetable", "123", "", "   ", "-", "zzzzzz",
    # equally close to two vegetables: ambiguous, never guessed
    "carote",
]  # fmt: skip


@pytest.mark.parametrize("raw", NEGATIVE_CASES)
def test_non_vegetables_and_unknown_words_stay_unresolved(raw: str) -> None:
    assert resolve_vegetable_name(raw) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("pois", "short names resolve exactly only"),
        ("col", "short names resolve exactly only"),
        ("papa", "short names resolve exactly only"),
    ],
)
def test_short_vegetable_names_resolve_only_when_exact(raw: str, reason: str) -> None:
    assert resolve_vegetable_name(raw) is not None
    one_letter_off = raw[:-1] + ("z" if raw[-1] != "z" else "y")
    assert resolve_vegetable_name(one_letter_off) is None, reason


def test_first_letter_must_be_right_on_short_names() -> None:
    assert resolve_vegetable_name("onion") == "onion"
    assert resolve_vegetable_name("union") is None
    assert resolve_vegetable_name("berro") == "watercress"
    assert resolve_vegetable_name("perro") is None


def test_lexicon_covers_at_least_forty_vegetables_in_three_languages() -> None:
    assert len(CANONICAL_VEGETABLES) >= 40
    assert set(LEXICON.values()) == CANONICAL_VEGETABLES
    for canonical in CANONICAL_VEGETABLES:
        assert canonical == canonical.strip().lower()
        assert LEXICON[canonical] == canonical


def test_every_vocabulary_form_resolves_to_its_canonical_name() -> None:
    vocabulary = vegetable_vocabulary()
    assert set(vocabulary) == CANONICAL_VEGETABLES
    for canonical, forms in vocabulary.items():
        assert forms[0] == canonical
        assert len(forms) == len(set(forms)), f"duplicate display forms for {canonical}"
        for form in forms:
            assert resolve_vegetable_name(form) == canonical, form
            assert resolve_vegetable_name(form.upper()) == canonical, form.upper()


def test_vocabulary_offers_accented_spanish_and_french_plurals() -> None:
    vocabulary = vegetable_vocabulary()
    assert "pommes de terre" in vocabulary["potato"]
    assert "judías verdes" in vocabulary["green bean"]
    assert "calabacines" in vocabulary["zucchini"]
    assert "choux de Bruxelles" in vocabulary["brussels sprout"]


def test_no_known_non_vegetable_resolves() -> None:
    resolved = {name: resolve_vegetable_name(name) for name in NON_VEGETABLES}
    assert {name: canonical for name, canonical in resolved.items() if canonical is not None} == {}
    assert not NON_VEGETABLES & LEXICON.keys()


def test_single_letter_typos_of_long_names_never_resolve_to_another_vegetable() -> None:
    """Exhaustive over one-edit typos of every lexicon form of 9+ characters: right canonical or None."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    for form, canonical in LEXICON.items():
        if len(form) < 9:
            continue
        typos = {form[:i] + form[i + 1 :] for i in range(len(form))}
        typos |= {form[:i] + letter + form[i + 1 :] for i in range(len(form)) for letter in alphabet[::5]}
        for typo in typos - LEXICON.keys() - NON_VEGETABLES:
            assert resolve_vegetable_name(typo) in (canonical, None), (typo, form)


def test_non_string_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        resolve_vegetable_name(42)  # type: ignore[arg-type]
