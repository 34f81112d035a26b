"""Zero-shot prompts: the texts that name each of the 71 SCP statements.

English: the statement's description in PTB-XL's ``scp_statements.csv`` (e.g. ``first degree
AV block``), the wording its reports' translations and ECG machines use. German: PTB-XL's
reports are mostly German, lower case, in the terms of its cardiologists ("sinusrhythmus",
"linksschenkelblock", "av-block i. grades"); ``scp_statements.csv`` has no German column, so
the German prompts below were written for this plugin in that vocabulary. A statement's score
is its best-matching prompt (MoRE takes the maximum over a class's prompts), so German
datasets get both the German and the English prompt.
"""

from __future__ import annotations

from ecgbench.data.labels import SCP_CODES, statement

GERMAN: dict[str, str] = {
    "1AVB": "av-block i. grades",
    "2AVB": "av-block ii. grades",
    "3AVB": "av-block iii. grades, totaler av-block",
    "ABQRS": "qrs abnormal",
    "AFIB": "vorhofflimmern",
    "AFLT": "vorhofflattern",
    "ALMI": "anterolateraler infarkt",
    "AMI": "anteriorer infarkt",
    "ANEUR": "st-t-veränderungen wie bei ventrikelaneurysma",
    "ASMI": "anteroseptaler infarkt",
    "BIGU": "bigeminus",
    "CLBBB": "kompletter linksschenkelblock",
    "CRBBB": "kompletter rechtsschenkelblock",
    "DIG": "digitaliswirkung",
    "EL": "elektrolytstörung oder medikamentenwirkung",
    "HVOLT": "hohe qrs-amplituden",
    "ILBBB": "inkompletter linksschenkelblock",
    "ILMI": "inferolateraler infarkt",
    "IMI": "inferiorer infarkt",
    "INJAL": "subendokardiale schädigung anterolateral",
    "INJAS": "subendokardiale schädigung anteroseptal",
    "INJIL": "subendokardiale schädigung inferolateral",
    "INJIN": "subendokardiale schädigung inferior",
    "INJLA": "subendokardiale schädigung lateral",
    "INVT": "negative t-wellen",
    "IPLMI": "inferoposterolateraler infarkt",
    "IPMI": "inferoposteriorer infarkt",
    "IRBBB": "unvollständiger rechtsschenkelblock",
    "ISCAL": "ischämie anterolateral",
    "ISCAN": "ischämie anterior",
    "ISCAS": "ischämie anteroseptal",
    "ISCIL": "ischämie inferolateral",
    "ISCIN": "ischämie inferior",
    "ISCLA": "ischämie lateral",
    "ISC_": "unspezifische ischämie",
    "IVCD": "unspezifische intraventrikuläre leitungsstörung",
    "LAFB": "linksanteriorer hemiblock",
    "LAO/LAE": "linksatriale belastung",
    "LMI": "lateraler infarkt",
    "LNGQT": "qt-verlängerung",
    "LOWT": "abgeflachte t-wellen",
    "LPFB": "linksposteriorer hemiblock",
    "LPR": "verlängerte pq-zeit",
    "LVH": "linkshypertrophie",
    "LVOLT": "periphere niederspannung",
    "NDT": "unspezifisches abnormales t",
    "NORM": "normales ekg",
    "NST_": "unspezifische st-veränderungen",
    "NT_": "unspezifische t-veränderungen",
    "PAC": "supraventrikuläre extrasystolen",
    "PACE": "schrittmacher-ekg",
    "PMI": "posteriorer infarkt",
    "PRC(S)": "extrasystolen",
    "PSVT": "paroxysmale supraventrikuläre tachykardie",
    "PVC": "ventrikuläre extrasystolen",
    "QWAVE": "q-zacken",
    "RAO/RAE": "rechtsatriale belastung",
    "RVH": "rechtshypertrophie",
    "SARRH": "sinusarrhythmie",
    "SBRAD": "sinusbradykardie",
    "SEHYP": "septumhypertrophie",
    "SR": "sinusrhythmus",
    "STACH": "sinustachykardie",
    "STD_": "st-senkung",
    "STE_": "st-hebung",
    "SVARR": "supraventrikuläre arrhythmie",
    "SVTAC": "supraventrikuläre tachykardie",
    "TAB_": "t abnormal",
    "TRIGU": "trigeminus",
    "VCLVH": "spannungskriterien für linkshypertrophie",
    "WPW": "wpw-syndrom",
}


def english(code: str) -> str:
    """The statement's description in ``scp_statements.csv``."""
    return str(statement(code)["description"])


def prompts(language: str) -> dict[str, tuple[str, ...]]:
    """Prompts per statement, in :data:`SCP_CODES` order: ``'en'`` the English description;
    ``'de'`` the German prompt and the English description."""
    if language not in ("en", "de"):
        raise ValueError(f"prompt language {language!r}: use 'en' or 'de'")
    return {code: (english(code),) if language == "en" else (GERMAN[code], english(code)) for code in SCP_CODES}
