"""Integration: Dutch, with gettext (SPEC §10, issue 13 item 2; design.md §10).

Two real daemons with the default configuration write their reports in
Dutch: the school's outflow report and the MBO's intake report, as text and
as HTML, use the words staff use (PrO, VSO, Entree, mbo-2, zelfmelder,
bestendig, uitval) and carry none of the headings or measure names of the
same report rendered in English (`--language en`, or `[report] language =
en`). The CLI speaks the user's locale: its help and its own errors, and the
errors the daemon sends back, are Dutch under nl_NL.UTF-8 and English under
LANG=C.

Run: python3 -m unittest -v test_language   (OVERSTAPD / OVERSTAP from the environment)
"""
import html
import os
import re
import subprocess

import harness
from harness import wait_for

SCHOOL, MBO = "12AB00", "25LZ00"
COHORT = "2024-2025"

# Words that are the same in both languages, so that finding them in the
# Dutch page is no sign of English: Dutch loans and the staff's own codes.
SAME_IN_BOTH = {"cohort", "COHORT", "diploma", "DIPLOMA", "bestendig", "BESTENDIG", "TAAL",
                "REKENEN", "SCHOOL", "x", "-"}

# Headings and measure names the English rendering has; none may be left in
# the Dutch one (checked to be present in the English first, so that a change
# of wording cannot make this test pass by itself).
ENGLISH_SCHOOL = ["Outflow report", "Breakdown", "How to read this report", "handed over",
                  "left without diploma", "no consent", "with consent", "no feedback",
                  "started", "progressed", "leavers", "program left", "advice followed",
                  "Reference date", "Smallest number shown", "Generated at", "all groups",
                  "By program left", "By destination type", "Trend over cohorts", "Charts"]
ENGLISH_SCHOOL_TEXT = ["Outflow report", "Breakdown", "HANDED_OVER", "% OF LEAVERS",
                       "LEFT_WITHOUT_DIPLOMA", "NO_CONSENT", "reference date", "generated at",
                       "total", "fewer than"]
ENGLISH_MBO = ["Intake report", "intake", "enrolled", "covered", "intake held",
               "previous education", "By previous education"]


def fixture(rng):
    """P01-P08 PrO to Entree, P09-P14 VSO to mbo-2; even pupils zelfmelders."""
    rows = []
    for i in range(1, 15):
        pro = i <= 8
        rows.append({
            "pupil_ref": "P%02d" % i, "pgn": harness.bsn(rng), "given_name": "Kind%d" % i,
            "family_name": "Taal", "birth_date": "2008-03-01",
            "program": "pro" if pro else "vso_arbeid", "cohort": COHORT,
            "exit_date": "2025-07-04",
            "destination_type": "mbo_entree" if pro else "mbo_2",
            "destination_institution": MBO,
            "advice": "entree" if pro else "mbo_2", "advice_followed": "yes" if i % 2 else "no",
            "level_taal": "1F", "level_rekenen": "none"})
    return rows


def headings(page):
    """The texts of a page's h1/h2/th/dt/figcaption/caption elements, tags
    stripped, and the h1's title before its colon."""
    out = set()
    for tag in ("h1", "h2", "th", "dt", "figcaption", "caption"):
        for m in re.findall(r"<%s[^>]*>(.*?)</%s>" % (tag, tag), page, re.S):
            t = html.unescape(re.sub(r"<[^>]*>", "", m)).strip()
            if t:
                out.add(t.split(":")[0].strip() if tag == "h1" else t)
    return out


def text_heads(report):
    """The text report's header labels and the grid's column heads."""
    lines = report.split("\n")
    out = {ln[:16].strip() for ln in lines[2:8] if ln[:16].strip()}
    grid = next(i for i, ln in enumerate(lines) if i > 8 and ln.strip())
    out.update(h.strip() for h in re.split(r"\s{2,}", lines[grid]) if h.strip())
    return out


def codes_left(page):
    """Words with an underscore in what a reader sees of a page (a measure's
    or a code's name, HANDED_OVER or vso_arbeid), where staff words belong."""
    seen = re.sub(r"<style>.*?</style>|<[^>]*>", " ", page, flags=re.S)
    return sorted(set(re.findall(r"[A-Za-z]+_[A-Za-z_]+", html.unescape(seen))))


def dutch_env():
    """The CLI's environment under the Dutch locale (scripts/setup generates it)."""
    env = {k: v for k, v in os.environ.items() if k not in harness.LOCALE_VARS}
    env["LANG"] = "nl_NL.UTF-8"
    return env


def c_env():
    env = {k: v for k, v in os.environ.items() if k not in harness.LOCALE_VARS}
    env["LANG"] = "C"
    return env


class ReportLanguageTest(harness.FederationCase):

    @classmethod
    def setUpClass(cls):
        cls._tmp = harness.TempDir()
        cls.root = cls._tmp.__enter__()
        try:
            # report_language=None: the daemons' own default, which is Dutch.
            cls.school, cls.mbo = harness.federation(cls.root, SCHOOL, MBO, report_language=None)
            import random
            rows = fixture(random.Random(13))
            cls.school.cli("import", "leavers",
                           harness.write_csv(os.path.join(cls.root, "l.csv"), rows))
            harness.hand_over(cls.school, rows)
            wait_for(lambda: sum(o["state"] == "delivered"
                                 for o in cls.school.cli_json("handover", "list")) == len(rows),
                     what="every dossier delivered")
        except BaseException:
            cls._tmp.__exit__(None, None, None)
            raise

    def report(self, inst, *args):
        return inst.cli("report", *args).stdout

    def assert_no_english(self, nl, english, what):
        left = [w for w in english if w not in SAME_IN_BOTH and w in nl]
        self.assertEqual(left, [], "%s: English left in the Dutch report" % what)

    def test_school_html_dutch_by_default(self):
        by = ("--by", "program,followed")
        nl = self.report(self.school, "--format", "html", *by)
        en = self.report(self.school, "--format", "html", "--language", "en", *by)
        self.assertIn('<html lang="nl">', nl)
        self.assertIn('<html lang="en">', en)
        for w in ENGLISH_SCHOOL:
            self.assertIn(w, en, "the English page lost %r: update this test" % w)
        self.assert_no_english(nl, ENGLISH_SCHOOL, "school HTML")
        # Every heading of the English page, whatever it is, is gone in Dutch;
        # a cohort, a reference level or the institution's name is no word.
        left = sorted(h for h in headings(en) & headings(nl) if h not in SAME_IN_BOTH
                      and not re.fullmatch(r"[\d\s()A-Z0-9,./-]*|Praktijkschool De Brug.*", h))
        self.assertEqual(left, [], "English headings in the Dutch page")
        self.assertEqual(codes_left(nl), [], "codes in the Dutch page")
        for w in ("Uitstroomrapport", "PrO", "VSO arbeidsmarkt", "zelfmelder", "advies gevolgd",
                  "bestendig", "uitval", "overgedragen", "Zo lees je dit rapport",
                  "Naar soort vervolgbestemming"):
            self.assertIn(w, nl)

    def test_school_text_dutch_by_default(self):
        nl = self.report(self.school, "--by", "destination")
        en = self.report(self.school, "--by", "destination", "--language", "en")
        for w in ENGLISH_SCHOOL_TEXT:
            self.assertIn(w, en, "the English text lost %r: update this test" % w)
        self.assert_no_english(nl, ENGLISH_SCHOOL_TEXT, "school text")
        self.assertEqual(codes_left(nl), [], "codes in the Dutch text report")
        left = sorted(text_heads(en) & text_heads(nl) - SAME_IN_BOTH)
        self.assertEqual(left, [], "English heads in the Dutch text report")
        for w in ("Uitstroomrapport", "Entree", "mbo-2", "OVERGEDRAGEN", "% VAN UITSTROMERS",
                  "UITVAL", "peildatum", "totaal"):
            self.assertIn(w, nl)
        # codes stay codes in English, as the JSON has them
        self.assertIn("mbo_entree", en)

    def test_mbo_intake_dutch(self):
        args = ("--side", "receiving", "--by", "previous")
        nl_html = self.report(self.mbo, "--format", "html", *args)
        en_html = self.report(self.mbo, "--format", "html", "--language", "en", *args)
        nl_text = self.report(self.mbo, *args)
        for w in ENGLISH_MBO:
            self.assertIn(w, en_html, "the English page lost %r: update this test" % w)
        # "intake" is a substring of Dutch "intakegesprek": look at whole headings
        self.assertEqual(sorted(headings(en_html) & headings(nl_html) - SAME_IN_BOTH), [])
        for w in ("Instroomrapport", "instroom", "ingeschreven", "vooropleiding", "PrO"):
            self.assertIn(w, nl_html)
        self.assertEqual(codes_left(nl_html), [], "codes in the Dutch intake page")
        self.assertEqual(codes_left(nl_text), [], "codes in the Dutch intake text")
        self.assertIn("Instroomrapport", nl_text)
        self.assertIn("VOOROPLEIDING", nl_text)

    def test_report_language_is_not_the_locale(self):
        """A Dutch user can print an English report and the other way round:
        every report of an institution reads the same, whoever prints it."""
        def run(env, *args):
            return subprocess.run([harness.OVERSTAP, "-s", self.school.sock, "report"] +
                                  list(args), capture_output=True, text=True, env=env,
                                  timeout=60).stdout
        self.assertIn("Outflow report", run(dutch_env(), "--language", "en"))
        self.assertIn("Uitstroomrapport", run(dutch_env()))
        self.assertIn("Uitstroomrapport", run(c_env()))

    def test_json_is_the_same_in_both(self):
        """Machine output is never translated (design.md §10)."""
        nl = self.report(self.school, "--format", "json")
        en = self.report(self.school, "--format", "json", "--language", "en")
        strip = lambda s: re.sub(r'"generated_at": "[^"]*"', "", s)
        self.assertEqual(strip(nl), strip(en))
        self.assertIn('"handed_over"', nl)

    def test_config_language_en(self):
        """[report] language = en makes English the default; --language still wins."""
        self.school.report["language"] = "en"
        self.school.write_config()
        try:
            self.school.reload()
            wait_for(lambda: "Outflow report" in self.report(self.school), timeout=10,
                     what="the reload to take [report] language = en")
            self.assertIn("Uitstroomrapport", self.report(self.school, "--language", "nl"))
        finally:
            del self.school.report["language"]
            self.school.write_config()
            self.school.reload()
            wait_for(lambda: "Uitstroomrapport" in self.report(self.school), timeout=10,
                     what="the reload back to the default")


class CliLanguageTest(harness.DaemonTestCase):
    """The CLI's messages follow the user's locale; so do the daemon's replies."""

    def setUp(self):
        super().setUp()
        have = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
        if not re.search(r"^nl_NL\.utf-?8$", have, re.M | re.I):
            self.fail("the locale nl_NL.UTF-8 is not installed: scripts/setup generates it")
        self.inst = harness.Institution(self.root, SCHOOL, "Praktijkschool De Brug").start()
        self.insts.append(self.inst)

    def run_cli(self, env, *args):
        return subprocess.run([harness.OVERSTAP, "-s", self.inst.sock] + list(args),
                              capture_output=True, text=True, env=env, timeout=60)

    def test_help(self):
        nl = self.run_cli(dutch_env(), "--help")
        en = self.run_cli(c_env(), "--help")
        self.assertEqual((nl.returncode, en.returncode), (0, 0))
        self.assertIn("gebruik: overstap", nl.stdout)
        self.assertIn("afsluitcode:", nl.stdout)
        self.assertIn("het kwaliteitszorgrapport", nl.stdout)
        self.assertIn("usage: overstap", en.stdout)
        self.assertNotIn("usage:", nl.stdout)
        nl = self.run_cli(dutch_env(), "report", "--help")
        self.assertIn("Het kwaliteitszorgrapport", nl.stdout)
        self.assertIn("[-o BESTAND [--force]]", nl.stdout)          # the synopsis
        self.assertIn("--language L      nl of en", nl.stdout)       # the options
        self.assertIn("Maten en noemers", nl.stdout)                # the notes
        self.assertIn("deze hulptekst", nl.stdout)
        en = self.run_cli(c_env(), "report", "--help")
        self.assertIn("--language L      nl or en", en.stdout)
        # the completion reads the untranslated table: the same in any locale
        self.assertEqual(self.run_cli(dutch_env(), "completion", "bash").stdout,
                         self.run_cli(c_env(), "completion", "bash").stdout)

    def test_cli_error(self):
        nl = self.run_cli(dutch_env(), "report", "--language", "fr")
        en = self.run_cli(c_env(), "report", "--language", "fr")
        self.assertEqual((nl.returncode, en.returncode), (2, 2))
        self.assertIn("--language moet nl of en zijn", nl.stderr)
        self.assertIn("Probeer 'overstap report --help'.", nl.stderr)
        self.assertIn("--language must be nl or en", en.stderr)
        r = subprocess.run([harness.OVERSTAP, "-s", os.path.join(self.root, "nope.sock"),
                            "status"], capture_output=True, text=True, env=dutch_env())
        self.assertEqual(r.returncode, 3)
        self.assertIn("kan overstapd niet bereiken", r.stderr)

    def test_key_file_reasons_in_the_users_language(self):
        # keys.c makes the reason; `overstap keys` prints it to the administrator
        kd = os.path.join(self.root, "keys-nl")
        self.assertEqual(self.run_cli(c_env(), "keys", "gen", "--dir", kd).returncode, 0)
        os.chmod(os.path.join(kd, "curve.key"), 0o644)
        nl = self.run_cli(dutch_env(), "keys", "show", "--dir", kd, "--id", SCHOOL,
                          "--endpoint", "tcp://school.example.nl:7470")
        en = self.run_cli(c_env(), "keys", "show", "--dir", kd, "--id", SCHOOL,
                          "--endpoint", "tcp://school.example.nl:7470")
        self.assertNotEqual(nl.returncode, 0)
        self.assertIn("het geheime sleutelbestand is leesbaar voor groep of anderen", nl.stderr)
        self.assertIn("voer uit: chmod 600", nl.stderr)
        self.assertIn("secret key file is readable by group or others", en.stderr)

    def test_config_errors_in_the_users_language(self):
        # config.c makes the reason; the CLI that reads a broken file for its
        # socket path warns the administrator in their language
        with open(self.inst.conf) as f:
            text = f.read()
        self.assertIn("[log]\nlevel = debug", text)
        bad = os.path.join(self.root, "bad.conf")
        with open(bad, "w") as f:
            f.write(text.replace("[log]\nlevel = debug", "[log]\nlevel = loud"))

        def warn(env):
            r = subprocess.run([harness.OVERSTAP, "-c", bad, "status"], capture_output=True,
                               text=True, env=env, timeout=60)
            return r.stderr.splitlines()[0] if r.stderr else ""
        self.assertIn("level: 'loud' is niet een van err, warning, notice, info, debug",
                      warn(dutch_env()))
        self.assertIn("level: 'loud' is not one of err, warning, notice, info, debug",
                      warn(c_env()))

    def test_daemon_error_in_the_callers_language(self):
        nl = self.run_cli(dutch_env(), "handover", "show", "NOPE")
        en = self.run_cli(c_env(), "handover", "show", "NOPE")
        self.assertEqual((nl.returncode, en.returncode), (1, 1))
        self.assertIn("NOPE: geen leerling met dit nummer", nl.stderr)
        self.assertIn("NOPE: no such pupil", en.stderr)
        # a reason the report module made, for the request
        # (an unknown dimension is the CLI's usage error now, issue 15; a
        # dimension given twice is still the report module's to find)
        nl = self.run_cli(dutch_env(), "report", "--by", "program,program")
        self.assertEqual(nl.returncode, 1, nl.stderr)
        self.assertIn("indeling 'program' twee keer gegeven", nl.stderr)
        # a backup's reasons (store_backup.c), made in the request
        dest = os.path.join(self.root, "taken.db")
        open(dest, "w").close()
        nl = self.run_cli(dutch_env(), "store", "backup", dest)
        self.assertEqual(nl.returncode, 1, nl.stderr)
        self.assertIn("%s bestaat al; geef --force om het te vervangen" % dest, nl.stderr)
        # the next request in English is not answered in the previous one's Dutch
        self.assertIn("no such pupil", self.run_cli(c_env(), "handover", "show", "X").stderr)
        # the language is gettext's, so LANGUAGE over a neutral locale works too
        env = c_env()
        env.update(LANG="C.UTF-8", LANGUAGE="nl")
        self.assertIn("geen leerling met dit nummer",
                      self.run_cli(env, "handover", "show", "NOPE").stderr)

    def test_refusals_per_pupil_in_the_callers_language(self):
        """The send gate's and the inzage rule's reasons are replies too."""
        harness.leavers_csv(os.path.join(self.root, "l.csv"), 1, dest="25LZ00")
        r = self.run_cli(dutch_env(), "import", "leavers", os.path.join(self.root, "l.csv"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 uitstromer geïmporteerd uit", r.stdout)
        # the daemon's warning, made in the request, in the caller's language
        self.assertIn("25LZ00 is (nog) geen ingestelde partner: 1 regel geïmporteerd", r.stderr)
        nl = self.run_cli(dutch_env(), "handover", "send", "L000001")
        en = self.run_cli(c_env(), "handover", "send", "L000001")
        self.assertIn("L000001: de vervolginstelling is geen ingestelde partner met een adres",
                      nl.stderr)
        self.assertIn("L000001: the destination is not a configured peer with an endpoint",
                      en.stderr)
        # born 2006-2008: 13 at most on this day, so a parent does the inzage
        nl = self.run_cli(dutch_env(), "handover", "inzage", "L000001", "--by", "pupil",
                          "--date", "2020-01-01", "--agrees", "yes")
        self.assertRegex(nl.stderr, r"L000001: de leerling is 1\d op 2020-01-01: de inzage is "
                                    r"door een ouder of voogd")
        # the consent checks (consent.c) and a bad free text (util.c) too
        grant = ["consent", "grant", "L000001", "--purpose", "handover", "--by", "pupil",
                 "--evidence", "form", "--ref", "DOC\x071", "--date", "2020-01-01"]
        nl = self.run_cli(dutch_env(), *grant)
        en = self.run_cli(c_env(), *grant)
        self.assertEqual((nl.returncode, en.returncode), (1, 1), nl.stderr + en.stderr)
        self.assertRegex(nl.stderr, r"L000001: de leerling was 1\d op 2020-01-01: onder de 16 "
                                    r"kan alleen een ouder of voogd toestemming geven")
        self.assertIn("de bewijsverwijzing moet afdrukbare ASCII zijn", nl.stderr)
        self.assertRegex(en.stderr, r"L000001: the pupil was 1\d on 2020-01-01: under 16 only a "
                                    r"parent or guardian can grant")
        nl = self.run_cli(dutch_env(), "audit", "ack-incident", "1", "--note", "a\x07b")
        self.assertIn("bevat een stuurteken", nl.stderr)

    def test_csv_errors_in_the_users_language(self):
        """FILE:LINE: column: reason, the reason in Dutch; exit 4 either way."""
        path = os.path.join(self.root, "bad.csv")
        harness.write_csv(path, [{
            "pupil_ref": "B1", "pgn": "123456789", "given_name": "Kind", "family_name": "Fout",
            "birth_date": "2008-03-01", "program": "pro", "cohort": "2024-2026",
            "exit_date": "2025-07-04", "destination_type": "mbo_entree",
            "destination_institution": "25LZ00"}])
        nl = self.run_cli(dutch_env(), "import", "leavers", path)
        en = self.run_cli(c_env(), "import", "leavers", path)
        self.assertEqual((nl.returncode, en.returncode), (4, 4))
        self.assertIn("pgn: voldoet niet aan de elfproef", nl.stderr)
        self.assertIn("cohort: de jaren moeten op elkaar volgen", nl.stderr)
        self.assertIn("2 fouten, niets geïmporteerd", nl.stderr)
        self.assertIn("pgn: fails the elfproef (11-test)", en.stderr)
        self.assertIn("2 errors, nothing imported", en.stderr)
