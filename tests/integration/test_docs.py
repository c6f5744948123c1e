"""The documentation names only what exists (issue 15): every `overstap ...`
command in README.md, HACKING.md, README.Debian and the man pages is a command of `overstap --help`,
every option given to it is one its own --help lists, every `overstapd`
option is one `overstapd --help` lists, every section link in README.md and
HACKING.md leads to a heading, and every command has its section in overstap(1).

The truth is the binaries' own help (the verb table), not a list kept here.

Run: python3 -m unittest -v test_docs   (OVERSTAP / OVERSTAPD / OVERSTAP_SRC from the environment)
"""
import os
import re
import shlex
import subprocess
import tempfile
import unittest

import harness

SRC = os.environ.get("OVERSTAP_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
GLOBAL = {"-s", "--socket", "-c", "--config", "-t", "--timeout", "-h", "--help", "-V",
          "--version"}
GLOBAL_WITH_VALUE = {"-s", "--socket", "-c", "--config", "-t", "--timeout"}


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout


def options_of(helptext):
    """The -x and --long options a help text lists."""
    opts = set()
    for m in re.finditer(r"(?m)^\s+(-\w)?(?:, )?(--[a-z][a-z0-9-]*)?", helptext):
        opts.update(o for o in m.groups() if o)
    return opts


class Verbs:
    """The commands of `overstap --help` and each one's options."""

    def __init__(self):
        text = run(harness.OVERSTAP, "--help")
        commands = text.split("commands:\n", 1)[1].split("\n\n", 1)[0]
        self.verbs = {}
        for line in commands.splitlines():
            words = line.split()
            # "  group name   summary" or "  group        summary"
            two = re.match(r"^  \S+ [a-z][a-z-]*  ", line)
            self.verbs[(words[0], words[1]) if two else (words[0], None)] = None
        self.groups = {g for g, _ in self.verbs}

    def options(self, verb):
        if self.verbs[verb] is None:
            words = [w for w in verb if w]
            self.verbs[verb] = options_of(run(harness.OVERSTAP, *words, "--help")) | {"-h", "--help"}
        return self.verbs[verb]

    def find(self, words):
        """The verb that words (after `overstap` and its global options) start
        with, and the words after it; None when there is none."""
        if not words:
            return None, []
        g = words[0]
        if len(words) > 1 and (g, words[1]) in self.verbs:
            return (g, words[1]), words[2:]
        if (g, None) in self.verbs:
            return (g, None), words[1:]
        return None, words


def commands_in(text):
    """(line number, argv after `overstap`) of every command line in text:
    fenced blocks and inline code spans that start with `overstap `."""
    found = []
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        spans = [line] if fenced else re.findall(r"`([^`]+)`", line)
        # man pages: *overstap foo --bar* in bold
        spans += re.findall(r"\*(overstap [^*]+)\*", line) if not fenced else []
        for span in spans:
            span = span.split("#", 1)[0] if fenced else span
            # `overstap` as a command, not as the user of `sudo -u overstap ...`
            for m in re.finditer(r"(?:^|[\s;(|&$])(?<!-u )overstap\s+([^;|&)]*)", span):
                try:
                    argv = shlex.split(m.group(1))
                except ValueError:
                    argv = m.group(1).split()
                found.append((n, argv))
    return found


def plain_text_as_markdown(text):
    """README.Debian is plain text: commands stand "in quotes" or on indented
    lines of their own (overstap, runuser, sudo ...). Each such command
    becomes a `code span` on its own line, so that commands_in reads it with
    the line number it has."""
    out = []
    for line in text.splitlines():
        if re.match(r"^\s{4,}(overstap|runuser|sudo) ", line):
            spans = [line.strip().rstrip("\\")]
        else:
            # not a debconf selection ("overstap overstap/purge_data ...")
            spans = [sp for sp in re.findall(r'"([^"]+)"', line)
                     if not re.match(r"overstap \S*/", sp)]
        out.append(" ".join("`%s`" % sp.replace("`", "") for sp in spans))
    return "\n".join(out)


class DocsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.v = Verbs()

    def check_commands(self, name, text):
        problems = []
        for n, argv in commands_in(text):
            i = 0
            while i < len(argv) and argv[i].startswith("-"):
                i += 2 if argv[i] in GLOBAL_WITH_VALUE else 1
            words = argv[i:]
            # a placeholder (COMMAND, GROUP) or an ellipsis stands for any
            if not words or not re.match(r"^[a-z]", words[0]):
                continue
            verb, rest = self.v.find(words)
            if verb is None and words[0] in self.v.groups and words[1:2] in (["--help"], ["-h"]):
                continue		# a group's own help
            if verb is None:
                problems.append("%s:%d: no command `overstap %s`" % (name, n, " ".join(words[:2])))
                continue
            allowed = self.v.options(verb) | GLOBAL
            for w in rest:
                opt = w.split("=", 1)[0]
                if re.match(r"^--?[a-zA-Z]", opt) and opt not in allowed:
                    problems.append("%s:%d: `overstap %s` has no option %s" %
                                    (name, n, " ".join(x for x in verb if x), opt))
        self.assertEqual(problems, [])

    def read(self, *path):
        with open(os.path.join(SRC, *path), encoding="utf-8") as f:
            return f.read()

    def test_readme_commands_and_options_exist(self):
        for doc in ("README.md", "HACKING.md"):
            with self.subTest(doc=doc):
                self.check_commands(doc, self.read(doc))

    def test_readme_debian_commands_and_options_exist(self):
        """The installed guide (issue 15: configure a school from the
        installed docs alone)."""
        self.check_commands("README.Debian", plain_text_as_markdown(
            self.read("cmake", "deb", "README.Debian")))

    def test_readme_debian_quotes_the_placeholder_error_as_overstapd_prints_it(self):
        """README.Debian shows the error a fresh install gives: the file and
        line of the example's placeholder id, and overstapd's words."""
        guide = self.read("cmake", "deb", "README.Debian")
        m = re.search(r"(/etc/overstap/overstapd\.conf):(\d+): (id: 99XX00 is the example's "
                      r"placeholder)", guide)
        self.assertIsNotNone(m, "README.Debian does not quote the placeholder error")
        conf = self.read("config", "overstapd.conf").splitlines()
        self.assertEqual(conf[int(m.group(2)) - 1], "id = 99XX00",
                         "README.Debian: line %s of overstapd.conf is not the id" % m.group(2))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "overstapd.conf")
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(conf) + "\n")
            r = subprocess.run([harness.OVERSTAPD, "-t", "-c", path], capture_output=True,
                               text=True, timeout=30)
        self.assertIn("%s:%s: %s" % (path, m.group(2), m.group(3)), r.stdout + r.stderr)

    def test_man_page_commands_and_options_exist(self):
        for page in ("overstap.1.scd", "overstapd.8.scd", "overstapd.conf.5.scd",
                     "overstap-web.8.scd"):
            with self.subTest(page=page):
                self.check_commands(page, self.read("docs", page))

    def test_overstap1_has_a_section_per_command_and_its_options_exist(self):
        text = self.read("docs", "overstap.1.scd")
        sections = {}
        current = None
        commands = text.split("\n# COMMANDS\n", 1)[1].split("\n# ", 1)[0]
        for line in commands.splitlines():
            m = re.match(r"^## (\S+)(?: ([a-z][a-z-]*))?", line)
            if m:
                current, _ = self.v.find([w for w in m.groups() if w])
                self.assertIsNotNone(current, "overstap(1): section for no command: %s" % line)
                sections[current] = set()
                continue
            if line.startswith("# "):
                current = None
            if current:
                for opt in re.findall(r"^\*(-\w)\*, \*(--[a-z-]+)\*|^\*(--[a-z-]+)\*", line):
                    sections[current].update(o for o in opt if o)
        for verb in self.v.verbs:
            self.assertIn(verb, sections, "overstap(1) has no section for `overstap %s`" %
                          " ".join(w for w in verb if w))
            extra = sections[verb] - self.v.options(verb)
            self.assertEqual(extra, set(), "overstap(1) documents options `overstap %s` "
                             "does not have" % " ".join(w for w in verb if w))

    def test_overstapd_options_in_its_man_page_exist(self):
        listed = options_of(run(harness.OVERSTAPD, "--help")) | {"-h", "--help"}
        text = self.read("docs", "overstapd.8.scd")
        options = text.split("# OPTIONS", 1)[1].split("\n# ", 1)[0]
        documented = set()
        for opt in re.findall(r"(?m)^\*(-\w)\*, \*(--[a-z-]+)\*|^\*(--[a-z-]+)\*", options):
            documented.update(o for o in opt if o)
        self.assertEqual(documented - listed, set())
        self.assertEqual(listed - documented, set(), "overstapd(8) does not document these")

    def test_handover_states_in_readme_and_man_page_are_those_of_handover_list(self):
        """Every state `handover list --state` takes, no other, is explained
        in README.md and overstap(1) (README once lacked registered, ready
        and erased)."""
        helptext = " ".join(run(harness.OVERSTAP, "handover", "list", "--help").split())
        listed = re.search(r"--state S only this state: (.*?) -C", helptext).group(1)
        states = set(re.findall(r"(?:^|, | or )([a-z]+)", listed))
        self.assertIn("erased", states)
        readme = " ".join(self.read("README.md").split("   States: ", 1)[1]
                          .split("`ATTEMPTS`", 1)[0].split())
        self.assertEqual(set(re.findall(r"`([a-z]+)`", readme)) - {"--all-ready"}, states)
        man = self.read("docs", "overstap.1.scd").split("## handover list", 1)[1]
        man = man.split("*-S*, *--state* _S_", 1)[0]
        self.assertEqual(set(re.findall(r"(?m)^- \*([a-z]+)\*:", man)), states)

    def test_section_references_lead_to_sections(self):
        """"see SIGNALS", "RESTORING FROM A BACKUP in overstapd(8)",
        "overstapd.conf(5), KEY ROLLOVER": each names a section the page has
        (overstap(1) once sent readers to a BUGS section long gone)."""
        docs = os.path.join(SRC, "docs")
        headings = {}
        for f in os.listdir(docs):
            if f.endswith(".scd"):
                headings[f[:-4]] = set(re.findall(r"(?m)^# (.+?)\s*$", self.read("docs", f)))
        up = r"([A-Z]{2,}(?: (?:A |AND |OF |THE |[A-Z]{2,}'?S? ?)*[A-Z]{2,})?)"
        page = r"\*?([a-z][a-z.-]*)\*?\((\d)\)"
        not_sections = {"RFC", "UTF", "ISO", "PGN", "BSN", "CSV", "JSON", "HTML", "SIGHUP",
                        "SIGTERM", "BRIN"}
        problems = []
        sources = ["README.md", "HACKING.md", os.path.join("cmake", "deb", "README.Debian"),
                   os.path.join("config", "overstapd.conf"), os.path.join("client", "overstap.c"),
                   os.path.join("systemd", "README.md")]
        sources += [os.path.join("docs", f) for f in sorted(os.listdir(docs)) if f.endswith(".scd")]
        for src in sources:
            text = " ".join(self.read(src).replace('\\n"', " ").replace('"', " ").split())
            refs = [(m.group(2) + "." + m.group(3), m.group(1))
                    for m in re.finditer(up + " in " + page, text)]
            refs += [(m.group(1) + "." + m.group(2), m.group(3))
                     for m in re.finditer(page + ",? " + up, text)]
            if src.endswith(".scd"):
                own = os.path.basename(src)[:-4]
                refs += [(own, m.group(1)) for m in re.finditer(r"\bsee " + up, text)]
            for pg, sec in refs:
                if pg in headings and sec not in not_sections and sec not in headings[pg]:
                    problems.append("%s: no section %s in %s" % (src, sec, pg))
        self.assertEqual(problems, [])
        self.assertIn("RESTORING FROM A BACKUP", headings["overstapd.8"])   # the check sees them

    @staticmethod
    def slugs(text):
        return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                for h in re.findall(r"(?m)^#+ (.+)$", text)}

    def test_readme_section_links_lead_to_headings(self):
        """README.md and HACKING.md: #anchors, files and FILE.md#anchor links."""
        for doc in ("README.md", "HACKING.md"):
            text = self.read(doc)
            for anchor in re.findall(r"\]\(#([^)]+)\)", text):
                self.assertIn(anchor, self.slugs(text),
                              "%s links to #%s, which is no heading" % (doc, anchor))
            for path, anchor in re.findall(r"\]\((?!https?:|#)([^)#]+)(?:#([^)]+))?\)", text):
                self.assertTrue(os.path.exists(os.path.join(SRC, path)),
                                "%s links to %s, which does not exist" % (doc, path))
                if anchor and path.endswith(".md"):
                    self.assertIn(anchor, self.slugs(self.read(path)),
                                  "%s links to %s#%s, which is no heading" % (doc, path, anchor))


if __name__ == "__main__":
    unittest.main()
