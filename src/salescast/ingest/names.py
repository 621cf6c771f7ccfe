"""Vegetable names in English, French and Spanish → canonical English (``"tomato"``, ``"green bean"``).

The feed names vegetables as people type them: any case, with or without accents, singular or
plural, with stray spaces or dashes, sometimes misspelt. :func:`resolve_vegetable_name` maps such a
name to one of :data:`CANONICAL_VEGETABLES`, or to ``None`` when it is not *confidently* a known
vegetable — a wrong merge silently corrupts the monthly figures, an unresolved name only waits for
an operator's alias.

Resolution rule
---------------
1. **Normalize** (:func:`normalize_name`): casefold, strip accents (NFKD), turn every run of
   punctuation, ``-``, ``_`` or whitespace into one space, strip. ``"  Pommes-de-Terre "`` →
   ``"pommes de terre"``.
2. **Exact lookup** in :data:`LEXICON` (every known form, EN/FR/ES, singular and generated plurals,
   regional variants) → its canonical name. An exact hit in the list of known *non*-vegetables
   (fruits, herbs, spices, other foods and common words that sit close to a vegetable name, in the
   three languages, with plurals) → ``None``.
3. **Typo correction** with rapidfuzz's Optimal String Alignment distance (a missing, doubled,
   wrong or swapped letter each costs one edit). A lexicon form is a candidate only if:

   * the distance fits the form's *edit budget*, which grows with the length of the form's
     singular: 0 edits up to 4 characters (``pois``, ``col``, ``ajo``, ``papa``: short words have
     too many real-word neighbours — ``poids``, ``cola``, ``ají``, ``pape``), 1 edit for 5 to 8
     characters, 2 edits from 9 characters (``pomme de terre``, ``zanahoria``);
   * for forms of at most 6 characters, the first letter is right (``union`` is not ``onion``,
     ``perro`` is not ``berro``).

   The best candidate wins only with a **clear margin**: no other vegetable and no known
   non-vegetable may be at the same or a smaller distance (ignoring budgets). So ``pomme`` (apple)
   never becomes ``pomme de terre``, ``poire`` never becomes ``poireau``, ``pimienta`` (the spice)
   never becomes ``pimiento``, and a name equally close to two vegetables stays unresolved.

Deliberate choices: ``mais`` resolves to corn (it is ``maïs`` typed without the accent, and the feed
is accent-insensitive; in a vegetable feed the French conjunction is not a product); ``papa`` is
potato (Latin American Spanish). Ambiguous generic names (``squash``, ``courge``, ``salade``) stay
unresolved on purpose.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

Language = Literal["en", "fr", "es"]

# canonical → language → display forms (singular, as a person would write them).
_VEGETABLE_FORMS: dict[str, dict[Language, tuple[str, ...]]] = {
    "tomato": {"en": ("tomato",), "fr": ("tomate",), "es": ("tomate", "jitomate")},
    "potato": {"en": ("potato",), "fr": ("pomme de terre", "patate"), "es": ("patata", "papa")},
    "carrot": {"en": ("carrot",), "fr": ("carotte",), "es": ("zanahoria",)},
    "onion": {"en": ("onion",), "fr": ("oignon", "ognon"), "es": ("cebolla",)},
    "garlic": {"en": ("garlic",), "fr": ("ail",), "es": ("ajo",)},
    "leek": {"en": ("leek",), "fr": ("poireau",), "es": ("puerro",)},
    "cucumber": {"en": ("cucumber",), "fr": ("concombre",), "es": ("pepino",)},
    "zucchini": {
        "en": ("zucchini", "courgette"),
        "fr": ("courgette",),
        "es": ("calabacín", "calabacita", "zapallito"),
    },
    "eggplant": {"en": ("eggplant", "aubergine"), "fr": ("aubergine",), "es": ("berenjena",)},
    "bell pepper": {
        "en": ("bell pepper", "sweet pepper", "pepper", "capsicum"),
        "fr": ("poivron",),
        "es": ("pimiento", "pimiento morrón", "morrón"),
    },
    "chili pepper": {
        "en": ("chili pepper", "chili", "chilli", "chile pepper", "hot pepper"),
        "fr": ("piment",),
        "es": ("guindilla", "chile", "ají"),
    },
    "lettuce": {"en": ("lettuce",), "fr": ("laitue",), "es": ("lechuga",)},
    "spinach": {"en": ("spinach",), "fr": ("épinard",), "es": ("espinaca",)},
    "cabbage": {"en": ("cabbage",), "fr": ("chou",), "es": ("col", "repollo")},
    "red cabbage": {
        "en": ("red cabbage",),
        "fr": ("chou rouge",),
        "es": ("lombarda", "col lombarda", "repollo morado"),
    },
    "cauliflower": {"en": ("cauliflower",), "fr": ("chou-fleur",), "es": ("coliflor",)},
    "broccoli": {"en": ("broccoli",), "fr": ("brocoli",), "es": ("brócoli", "brécol")},
    "brussels sprout": {
        "en": ("Brussels sprout",),
        "fr": ("chou de Bruxelles",),
        "es": ("col de Bruselas", "repollito de Bruselas"),
    },
    "kale": {"en": ("kale",), "fr": ("chou kale", "chou frisé"), "es": ("col rizada", "kale")},
    "kohlrabi": {"en": ("kohlrabi",), "fr": ("chou-rave",), "es": ("colinabo",)},
    # Listed so that "chayote" is never taken for a typo of "chalote" (shallot).
    "chayote": {"en": ("chayote",), "fr": ("christophine", "chouchou"), "es": ("chayote", "güisquil")},
    "green bean": {
        "en": ("green bean", "string bean"),
        "fr": ("haricot vert",),
        "es": ("judía verde", "ejote", "vainita", "chaucha"),
    },
    "bean": {
        "en": ("bean", "kidney bean"),
        "fr": ("haricot", "haricot sec"),
        "es": ("frijol", "fríjol", "poroto", "alubia", "judía", "habichuela"),
    },
    "broad bean": {"en": ("broad bean", "fava bean"), "fr": ("fève",), "es": ("haba",)},
    "pea": {
        "en": ("pea", "green pea"),
        "fr": ("petit pois", "pois"),
        "es": ("guisante", "arveja", "chícharo"),
    },
    "corn": {
        "en": ("corn", "sweet corn", "maize"),
        "fr": ("maïs",),
        "es": ("maíz", "elote", "choclo"),
    },
    "pumpkin": {"en": ("pumpkin",), "fr": ("citrouille", "potiron"), "es": ("calabaza", "zapallo", "ayote")},
    "butternut squash": {
        "en": ("butternut squash", "butternut"),
        "fr": ("courge butternut", "doubeurre"),
        "es": ("calabaza moscada", "calabaza butternut"),
    },
    "sweet potato": {
        "en": ("sweet potato",),
        "fr": ("patate douce",),
        "es": ("batata", "boniato", "camote"),
    },
    "artichoke": {"en": ("artichoke",), "fr": ("artichaut",), "es": ("alcachofa", "alcaucil")},
    "jerusalem artichoke": {
        "en": ("Jerusalem artichoke", "sunchoke"),
        "fr": ("topinambour",),
        "es": ("tupinambo", "aguaturma"),
    },
    "asparagus": {"en": ("asparagus",), "fr": ("asperge",), "es": ("espárrago",)},
    "celery": {"en": ("celery",), "fr": ("céleri", "céleri branche"), "es": ("apio",)},
    "celeriac": {"en": ("celeriac", "celery root"), "fr": ("céleri-rave",), "es": ("apionabo",)},
    "radish": {"en": ("radish",), "fr": ("radis",), "es": ("rábano", "rabanito")},
    "turnip": {"en": ("turnip",), "fr": ("navet",), "es": ("nabo",)},
    "beetroot": {
        "en": ("beetroot", "beet"),
        "fr": ("betterave",),
        "es": ("remolacha", "betabel", "betarraga"),
    },
    "parsnip": {"en": ("parsnip",), "fr": ("panais",), "es": ("chirivía", "pastinaca")},
    "fennel": {"en": ("fennel",), "fr": ("fenouil",), "es": ("hinojo",)},
    "mushroom": {"en": ("mushroom",), "fr": ("champignon",), "es": ("champiñón", "hongo", "seta")},
    "swiss chard": {"en": ("Swiss chard", "chard"), "fr": ("blette", "bette"), "es": ("acelga",)},
    "endive": {"en": ("endive", "chicory"), "fr": ("endive", "chicon"), "es": ("endibia", "endivia")},
    "okra": {"en": ("okra",), "fr": ("gombo",), "es": ("quimbombó", "okra")},
    "shallot": {"en": ("shallot",), "fr": ("échalote",), "es": ("chalota", "chalote")},
    "watercress": {"en": ("watercress",), "fr": ("cresson",), "es": ("berro",)},
    "arugula": {"en": ("arugula",), "fr": ("roquette",), "es": ("rúcula", "rúgula")},
    "cassava": {"en": ("cassava",), "fr": ("manioc",), "es": ("yuca", "mandioca")},
    "spring onion": {
        "en": ("spring onion", "scallion", "green onion"),
        "fr": ("oignon vert", "ciboule"),
        "es": ("cebolleta", "cebolla de verdeo"),
    },
}

# Names no one pluralizes; their generated plurals stay in the lexicon (harmless) but are not offered as
# display forms to the generator.
_UNCOUNTABLE = frozenset(
    {
        "garlic", "ail", "spinach", "asparagus", "corn", "sweet corn", "maize", "maïs", "broccoli",
        "celery", "kale", "chou kale", "okra", "watercress", "cresson", "arugula", "roquette", "cassava",
        "manioc", "fennel", "swiss chard", "chard", "kohlrabi", "celeriac", "lettuce", "cabbage",
        "red cabbage", "cauliflower", "butternut squash", "butternut", "pumpkin", "sunchoke",
    }
)  # fmt: skip

# Known non-vegetables, grouped by language: fruits, herbs, spices, other foods and everyday words that sit
# within a typo of a vegetable name. A name at least as close to one of these as to any vegetable stays
# unresolved.
_NON_VEGETABLE_FORMS: dict[Language, tuple[str, ...]] = {
    "en": (
        "apple", "pear", "banana", "orange", "lemon", "lime", "grape", "strawberry", "cherry", "peach",
        "apricot", "plum", "prune", "melon", "watermelon", "pineapple", "mango", "kiwi", "papaya", "coconut",
        "fig", "pomegranate", "blueberry", "raspberry", "blackberry", "berry", "currant", "avocado", "olive",
        "date", "grapefruit", "mandarin", "tangerine", "clementine", "passion fruit", "guava", "lychee",
        "quince", "nectarine", "cranberry", "navel", "navel orange",
        "parsley", "basil", "coriander", "cilantro", "mint", "chive", "thyme", "rosemary", "dill", "ginger",
        "black pepper", "peppercorn", "salt", "sugar", "rice", "bread", "milk", "egg", "cheese", "meat",
        "fish", "chicken", "salad", "tomato sauce", "ketchup", "chips", "fries", "french fries",
        "potato chips", "crisps", "juice", "soup",
        "table", "car", "hello", "test", "unknown", "other", "misc", "total", "none", "null", "xyz",
        "union", "radio", "card", "chart", "charm", "chord", "child", "chill", "chilly", "maze", "elite",
        "funnel", "gaelic", "shallow", "stallion", "gumbo", "pigment", "champion", "bears", "beads",
    ),
    "fr": (
        "pomme", "poire", "banane", "orange", "citron", "citron vert", "raisin", "fraise", "cerise", "pêche",
        "abricot", "prune", "pruneau", "melon", "pastèque", "ananas", "mangue", "kiwi", "papaye",
        "noix de coco", "figue", "grenade", "myrtille", "framboise", "mûre", "groseille", "cassis", "avocat",
        "olive", "datte", "pamplemousse", "mandarine", "clémentine", "fruit de la passion", "goyave",
        "litchi", "coing", "nectarine", "brugnon", "châtaigne", "marron", "noix", "amande",
        "persil", "basilic", "coriandre", "menthe", "ciboulette", "thym", "romarin", "aneth", "gingembre",
        "poivre", "sel", "sucre", "riz", "pain", "lait", "oeuf", "fromage", "viande", "poisson", "poulet",
        "salade", "sauce tomate", "frites", "chips", "jus", "soupe", "courge",
        "voiture", "bonjour", "inconnu", "autre", "divers", "poids", "pape", "bête", "palais",
        "belette", "poivrot", "pépin", "raquette", "asperger", "radio",
    ),
    "es": (
        "manzana", "pera", "plátano", "banano", "guineo", "naranja", "limón", "lima", "uva", "fresa",
        "frutilla", "cereza", "melocotón", "durazno", "albaricoque", "damasco", "ciruela", "melón", "sandía",
        "piña", "ananá", "mango", "kiwi", "papaya", "coco", "higo", "granada", "arándano", "frambuesa", "mora",
        "aguacate", "palta", "aceituna", "oliva", "dátil", "pomelo", "toronja", "mandarina", "maracuyá",
        "guayaba", "lichi", "membrillo", "nectarina", "grosella", "castaña", "nuez", "almendra", "maní",
        "cacahuete", "perejil", "albahaca", "cilantro", "menta", "cebollino", "tomillo", "romero", "eneldo",
        "jengibre", "pimienta", "sal", "azúcar", "arroz", "pan", "leche", "huevo", "queso", "carne", "pescado",
        "pollo", "ensalada", "salsa de tomate", "papas fritas", "patatas fritas", "zumo", "jugo", "sopa",
        "mesa", "coche", "hola", "desconocido", "otro", "varios", "cola", "mas", "perro", "barro", "burro",
        "judío", "rabino", "puerto", "puerco", "chocho", "pimentón", "elite",
    ),
}  # fmt: skip

_CONNECTORS = frozenset({"de", "du", "des", "of"})
_ACUTE_TO_PLAIN = str.maketrans("áéíóú", "aeiou")
_SEPARATORS = re.compile(r"[\W_]+")


def normalize_name(raw: str) -> str:
    """Return the comparison key of a name: casefolded, accents stripped, separators collapsed.

    Every run of whitespace, punctuation, ``-`` or ``_`` becomes one space; the result is stripped.
    ``"  Pommes-de-Terre "`` → ``"pommes de terre"``, ``"JUDÍAS__verdes"`` → ``"judias verdes"``.
    """
    decomposed = unicodedata.normalize("NFKD", raw.casefold())
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", without_accents).strip()


# The key is stored and indexed (PostgreSQL refuses B-tree entries over ~2.7 kB); compatibility forms
# expand under NFKD (U+FDFA becomes 18 characters), so a 200-character name could grow past that.
MAX_NAME_KEY_LENGTH = 400


def name_key(raw: str) -> str:
    """:func:`normalize_name`, cut to 400 characters: the key under which names are stored and aliased.

    A name that normalizes to nothing although it has a letter (a few isolated Arabic marks such as
    U+FE70) keys on its casefolded self, so every valid name has a key.
    """
    return (normalize_name(raw) or raw.strip().casefold())[:MAX_NAME_KEY_LENGTH]


def _plural_words(word: str, language: Language) -> tuple[str, ...]:
    """Plural spellings of one display word by the regular rules of its language (accents kept)."""
    key = normalize_name(word)
    if not key or not key[-1].isalpha():
        return (word,)
    if language == "en":
        if key.endswith("y") and key[-2:-1] not in ("a", "e", "i", "o", "u"):
            return (word[:-1] + "ies",)
        if key.endswith(("s", "x", "z", "ch", "sh")):
            return (word + "es",)
        if key.endswith("o"):
            return (word + "es", word + "s")
        if key.endswith("i"):
            return (word + "s", word + "es")
        return (word + "s",)
    if language == "fr":
        if key.endswith(("s", "x", "z")):
            return (word,)
        if key.endswith(("au", "eu", "ou")):
            return (word + "x", word + "s")
        return (word + "s",)
    # Spanish: vowel + s; stressed final vowel + s or es; z → ces; consonant + es, and the written accent
    # of a final stressed syllable drops (champiñón → champiñones).
    if key.endswith(("s", "x")):
        return (word,)
    if key.endswith("z"):
        return (word[:-1] + "ces",)
    if key[-1] in "aeiou":
        if word[-1] in "áéíóú":
            return (word + "s", word + "es")
        return (word + "s",)
    if len(word) >= 2 and word[-2] in "áéíóú":
        word = word[:-2] + word[-2].translate(_ACUTE_TO_PLAIN) + word[-1]
    return (word + "es",)


def _plural_forms(form: str, language: Language) -> list[str]:
    """Plural display spellings of a (possibly multi-word) name; the first one is the grammatical plural.

    Words after a connector (``de``, ``of``) never change: ``pomme de terre`` → ``pommes de terre``.
    English pluralizes the last word only; French and Spanish every word before the connector (noun and
    adjective agree: ``haricots verts``), and partial plurals such as ``haricot verts`` are generated too.
    """
    tokens = re.split(r"([ -])", form)
    word_positions = [index for index in range(0, len(tokens), 2)]
    head: list[int] = []
    for position in word_positions:
        if tokens[position].casefold() in _CONNECTORS:
            break
        head.append(position)
    if language == "en":
        head = head[-1:]
    options_per_word = [(tokens[position], *_plural_words(tokens[position], language)) for position in head]
    plurals: list[str] = []
    # Full plural first (each word's first plural option), then every partial/alternative combination.
    full = list(tokens)
    for position, options in zip(head, options_per_word, strict=True):
        full[position] = options[1]
    plurals.append("".join(full))
    for combination in itertools.product(*options_per_word):
        variant = list(tokens)
        for position, word in zip(head, combination, strict=True):
            variant[position] = word
        text = "".join(variant)
        if text != form and text not in plurals:
            plurals.append(text)
    return plurals


def _edit_budget(singular_key: str) -> int:
    """Typos tolerated for a lexicon form, from the length of its singular: short words get none."""
    if len(singular_key) <= 4:
        return 0
    if len(singular_key) <= 8:
        return 1
    return 2


_FIRST_LETTER_RULE_MAX_LENGTH = 6
_MAX_EDITS = 2


def _build_lexicon() -> tuple[dict[str, str], dict[str, int], frozenset[str]]:
    """Every normalized vegetable form → canonical, the edit budget of each form, and non-vegetable keys."""
    lexicon: dict[str, str] = {}
    budgets: dict[str, int] = {}
    for canonical, forms_by_language in _VEGETABLE_FORMS.items():
        for language, forms in forms_by_language.items():
            for form in (canonical, *forms) if language == "en" else forms:
                singular = normalize_name(form)
                for variant in (form, *_plural_forms(form, language)):
                    key = normalize_name(variant)
                    if lexicon.setdefault(key, canonical) != canonical:
                        raise ValueError(f"lexicon form {key!r} maps to both {lexicon[key]!r} and {canonical!r}")
                    budgets[key] = min(budgets.get(key, _MAX_EDITS), _edit_budget(singular))
    non_vegetables: set[str] = set()
    for language, forms in _NON_VEGETABLE_FORMS.items():
        for form in forms:
            key = normalize_name(form)
            if key in lexicon:
                raise ValueError(f"{form!r} is listed both as a vegetable and as a non-vegetable")
            non_vegetables.add(key)
            # A generated plural may coincide with a vegetable form ("chilly" → "chillies"): the vegetable wins.
            plurals = (normalize_name(variant) for variant in _plural_forms(form, language))
            non_vegetables.update(plural for plural in plurals if plural not in lexicon)
    return lexicon, budgets, frozenset(non_vegetables)


_LEXICON, _EDIT_BUDGETS, NON_VEGETABLES = _build_lexicon()

CANONICAL_VEGETABLES: frozenset[str] = frozenset(_VEGETABLE_FORMS)
LEXICON: Mapping[str, str] = MappingProxyType(_LEXICON)
"""Every known normalized form (EN/FR/ES, singular and plural, regional variants) → canonical name."""

_VEGETABLE_KEYS: tuple[str, ...] = tuple(_LEXICON)
_CHOICES: tuple[str, ...] = _VEGETABLE_KEYS + tuple(sorted(NON_VEGETABLES))


@lru_cache(maxsize=65_536)
def resolve_vegetable_name(raw: str) -> str | None:
    """Canonical English name of a raw vegetable name, or ``None`` when it is not confidently a vegetable.

    Input: the name as received (any language of EN/FR/ES, case, accents, plural, typos). Output: one of
    :data:`CANONICAL_VEGETABLES` or ``None``. The non-obvious rule — edit budget by length, first letter
    right on short names, and a strict margin over every other vegetable and every known non-vegetable —
    is described in the module docstring. Results are cached: feeds repeat the same few names.
    """
    if not isinstance(raw, str):
        raise TypeError(f"a vegetable name must be a string, got {type(raw).__name__}: {raw!r}")
    key = normalize_name(raw)
    if not key or key in NON_VEGETABLES:
        return None
    exact = _LEXICON.get(key)
    if exact is not None:
        return exact
    neighbours = process.extract(key, _CHOICES, scorer=OSA.distance, score_cutoff=_MAX_EDITS, limit=None)
    best_distance: int | None = None
    best_canonical: str | None = None
    for form, distance, index in neighbours:
        if index >= len(_VEGETABLE_KEYS) or distance > _EDIT_BUDGETS[form]:
            continue
        if len(form) <= _FIRST_LETTER_RULE_MAX_LENGTH and form[0] != key[0]:
            continue
        if best_distance is None or distance < best_distance:
            best_distance, best_canonical = distance, _LEXICON[form]
    if best_distance is None:
        return None
    for form, distance, index in neighbours:
        if distance > best_distance:
            continue
        is_vegetable = index < len(_VEGETABLE_KEYS)
        if not is_vegetable or _LEXICON[form] != best_canonical:
            return None
    return best_canonical


def vegetable_vocabulary() -> dict[str, list[str]]:
    """Canonical name → display forms a person would type: EN, FR and ES, with accents and capitals, plurals.

    Every form resolves exactly to its canonical name. The first form is the canonical name itself. Used
    by the feed generator and the load benchmark to draw realistic raw names.
    """
    vocabulary: dict[str, list[str]] = {}
    for canonical, forms_by_language in _VEGETABLE_FORMS.items():
        display: list[str] = [canonical]
        for language, forms in forms_by_language.items():
            for form in forms:
                candidates = [form]
                if form.casefold() not in _UNCOUNTABLE:
                    candidates.append(_plural_forms(form, language)[0])
                display.extend(candidate for candidate in candidates if candidate not in display)
        vocabulary[canonical] = display
    return vocabulary
