"""English-like text lines for synthetic data, from words written in this file (no download).

    lines = EnglishLines()                      # IAM charset, 1-10 words per line
    lines.line(numpy.random.default_rng(0))     # e.g. 'The house was small, and "we" left in 1962.'

Only characters of the given charset are produced, so the same source serves any model's charset.
Words are drawn from the 50,000 most frequent English words (``data/text/words-en.tsv``, from
wordfreq, CC-BY-SA 4.0) with probability growing as the square root of their frequency, so
common words dominate as in prose while rare ones are still seen; a few short common words
written in this file fill in for charsets the list cannot serve.

Half the lines are instead a run of consecutive words cut from a real sentence
(``data/sentences.py``: public-domain State of the Union addresses and Moby Dick, not LOB), so
that the recurrent layers also see English word order, capitals and punctuation where prose puts
them. Nothing here holds IAM's (LOB) text.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from hwr_export.data.sentences import load_sentences
from runtimes.contract import IAM_CHARSET
from runtimes.errors import HwrError

WORDS = """
the of and to a in is it you that he was for on are with as I his they be at one have this
from or had by hot but some what there we can out other were all your when up use word how
said an each she which do their time if will way about many then them would write like so
these her long make thing see him two has look more day could go come did my sound no most
number who over know water than call first people may down side been now find any new work
part take get place made live where after back little only round man year came show every
good me give our under name very through just form much great think say help low line before
turn cause same mean differ move right boy old too does tell sentence set three want air well
also play small end put home read hand port large spell add even land here must big high such
follow act why ask men change went light kind off need house picture try us again animal point
mother world near build self earth father head stand own page should country found answer
school grow study still learn plant cover food sun four thought let keep eye never last door
between city tree cross since hard start might story saw far sea draw left late run while press
close night real life few stop open seem together next white children begin got walk example
ease paper often always music those both mark book letter until mile river car feet care second
group carry took rain eat room friend began idea fish mountain north once base hear horse cut
sure watch colour face wood main enough plain girl usual young ready above ever red list though
feel talk bird soon body dog family direct pose leave song measure state product black short
class wind question happen complete ship area half rock order fire south problem piece told knew
pass farm top whole king size heard best hour better true during hundred am remember step early
hold west ground interest reach fast five sing listen six table travel less morning ten simple
several vowel toward war lay against pattern slow centre love person money serve appear road map
science rule govern pull cold notice voice fall power town fine certain fly unit lead cry dark
machine note wait plan figure star box noun field rest correct able pound done beauty drive stood
contain front teach week final gave green oh quick develop sleep warm free minute strong special
mind behind clear tail produce fact street inch lot nothing course stay wheel full force blue
object decide surface deep moon island foot yet busy test record boat common gold possible plane
age dry wonder laugh thousand ago ran check game shape yes cool miss brought heat snow bed bring
sit perhaps fill east weight language among minister party labour government policy meeting
don't it's can't won't I'm that's didn't isn't he's there's you're we'll
""".split()  # noqa: SIM905 - a word list reads better as text than as 500 quoted strings
NAMES = """London Paris Europe Africa Mr Mrs Dr John Mary Smith Brown Kennedy Sunday Monday May
""".split()  # noqa: SIM905

WORD_LIST = Path(__file__).parent / "text" / "words-en.tsv"
FREQUENCY_POWER = 0.5  # flatten Zipf: rare words show up often enough to be learned
SENTENCE_SHARE = 0.5  # lines cut from real sentences; the rest are drawn word by word
FREQUENT_SHARE = 0.85  # tokens from the frequency list; the rest from WORDS above


@functools.cache
def frequent_words() -> tuple[tuple[str, ...], np.ndarray]:
    """The word list and each word's cumulative sampling probability."""
    words, weights = [], []
    for row in WORD_LIST.read_text(encoding="utf-8").splitlines():
        if row and not row.startswith("#"):
            word, count = row.split("\t")
            words.append("I" if word == "i" else word)
            weights.append(float(count) ** FREQUENCY_POWER)
    cumulative = np.cumsum(weights)
    return tuple(words), cumulative / cumulative[-1]


PUNCT_AFTER = [(",", 0.09), (".", 0.05), (";", 0.01), (":", 0.01), ("?", 0.01), ("!", 0.01)]
LINE_END = [(".", 0.35), ("?", 0.03), ("!", 0.03), (",", 0.08), ("...", 0.01), (":", 0.01)]
SYMBOL_WORDS = ["-", "&", "+", "*", "/", "=", "#1"]  # rare standalone tokens, kept if in charset


class EnglishLines:
    """Random English-like lines restricted to one charset (deterministic given the rng)."""

    def __init__(
        self,
        charset: str = IAM_CHARSET,
        min_words: int = 1,
        max_words: int = 10,
        sentence_share: float = SENTENCE_SHARE,
    ):
        if not 1 <= min_words <= max_words:
            raise HwrError(
                f"words per line: need 1 <= min_words <= max_words, got {min_words}-{max_words}"
            )
        self.charset = set(charset)
        self.min_words, self.max_words = min_words, max_words
        self.words = [w for w in WORDS if self._fits(w)]
        listed, cumulative = frequent_words()
        fits = np.array([self._fits(w) for w in listed])
        self.frequent = [w for w, ok in zip(listed, fits, strict=True) if ok]
        probabilities = np.diff(cumulative, prepend=0.0)[fits]
        self.frequent_cdf = np.cumsum(probabilities) / probabilities.sum() if fits.any() else None
        self.names = [w for w in NAMES if self._fits(w)]
        # Sentences need the Latin letters and word spaces; other charsets get word lines only.
        latin = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
        self.sentences = load_sentences() if latin <= self.charset and sentence_share else ()
        self.sentence_share = sentence_share
        self.symbols = [w for w in SYMBOL_WORDS if self._fits(w)]
        self.digits = [c for c in "0123456789" if c in self.charset]
        if len(self.words) < 20:  # a charset with few English words: add strings of its characters
            glyphs = sorted(c for c in self.charset if c.isalnum()) or sorted(self.charset - {" "})
            if not glyphs:
                raise HwrError("charset has no printable characters to build text lines from")
            self.words += [
                "".join(glyphs[(k * 7 + i) % len(glyphs)] for i in range(1 + k % 6))
                for k in range(40)
            ]

    def _fits(self, text: str) -> bool:
        return all(c in self.charset for c in text)

    def _maybe(self, text: str) -> str:
        return self._fitting(text, "")

    def _fitting(self, text: str, fallback: str) -> str:
        return text if self._fits(text) else fallback

    def line(self, rng: np.random.Generator) -> str:
        """One line of 1..max_words tokens with capitals, digits and punctuation."""
        count = int(rng.integers(self.min_words, self.max_words + 1))
        if self.sentences and rng.random() < self.sentence_share:
            run = self._sentence_run(rng, count)
            if run:
                return run
        tokens: list[str] = []
        capital_next = rng.random() < 0.7  # most lines start a sentence
        for index in range(count):
            token = self._token(rng)
            if capital_next or rng.random() < 0.03:
                token = self._fitting(token[:1].upper() + token[1:], token)
            if rng.random() < 0.01:
                token = self._fitting(token.upper(), token)
            capital_next = False
            punctuation = LINE_END if index == count - 1 else PUNCT_AFTER
            for mark, p in punctuation:
                if rng.random() < p:
                    token += self._maybe(mark)
                    capital_next = mark in ".?!"
                    break
            if rng.random() < 0.03:
                token = self._maybe('"') + token + self._maybe('"')
            elif rng.random() < 0.02:
                token = self._maybe("(") + token + self._maybe(")")
            tokens.append(token)
        separator = " " if " " in self.charset else ""
        text = separator.join(t for t in tokens if t)
        return "".join(c for c in text if c in self.charset).strip() or self.words[0]

    def _sentence_run(self, rng: np.random.Generator, count: int) -> str | None:
        """``count`` consecutive words of a random sentence (None if it has too few words)."""
        sentence = self.sentences[int(rng.integers(len(self.sentences)))]
        words = [
            w for w in ("".join(c for c in w if c in self.charset) for w in sentence.split()) if w
        ]
        if len(words) < self.min_words:
            return None
        count = min(count, len(words))
        start = int(rng.integers(0, len(words) - count + 1))
        return " ".join(words[start : start + count])

    def _token(self, rng: np.random.Generator) -> str:
        roll = rng.random()
        if roll < 0.05 and self.digits:
            return self._number(rng)
        if roll < 0.07 and self.names:
            return self.names[rng.integers(len(self.names))]
        if roll < 0.08 and self.symbols:
            return self.symbols[rng.integers(len(self.symbols))]
        word = self._word(rng)
        if roll < 0.10:  # hyphenated pair, e.g. "well-known"
            word += self._maybe("-") + self._word(rng)
        elif roll < 0.12 and "'" not in word:
            word += self._maybe("'s")
        return word

    def _word(self, rng: np.random.Generator) -> str:
        if self.frequent_cdf is not None and rng.random() < FREQUENT_SHARE:
            index = int(np.searchsorted(self.frequent_cdf, rng.random(), side="right"))
            return self.frequent[min(index, len(self.frequent) - 1)]
        return self.words[rng.integers(len(self.words))]

    def _number(self, rng: np.random.Generator) -> str:
        kind = rng.random()
        if kind < 0.3:
            text = str(rng.integers(1900, 2000))  # a year
        elif kind < 0.5:
            text = f"{rng.integers(1, 13)}.{rng.integers(0, 60):02d}"  # a time of day
        elif kind < 0.6:
            text = f"{rng.integers(1, 100)},{rng.integers(0, 1000):03d}"  # a large amount
        else:
            text = str(rng.integers(0, 10 ** rng.integers(1, 4)))
        return "".join(c for c in text if c in self.charset) or self.digits[0]
