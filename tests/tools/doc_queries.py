#!/usr/bin/env python3
"""Prints the SQL queries of a Markdown file (its ```sql blocks), each
followed by a NUL byte. With --titles, each is preceded by the heading of
its section and a tab. Used by tests/integration/test_analysts.sh and
bench/analyst_queries.sh on docs/analysts.md, so both run the same queries.
"""
import re
import sys

args = [a for a in sys.argv[1:] if a != "--titles"]
titles = "--titles" in sys.argv[1:]
text = open(args[0], encoding="utf-8").read()
heading = ""
for m in re.finditer(r"^(#+ [^\n]*)$|```sql\n(.*?)```", text, re.S | re.M):
    if m.group(1):
        heading = m.group(1).lstrip("#").strip()
        continue
    if titles:
        sys.stdout.write(heading.replace("\t", " ") + "\t")
    sys.stdout.write(m.group(2) + "\0")
