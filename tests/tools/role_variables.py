"""Write (or check) the "Variables" table of every role README from its argument spec.

    .venv/bin/python tests/tools/role_variables.py          rewrite the tables in roles/*/README.md
    .venv/bin/python tests/tools/role_variables.py --check  exit 1 and name the READMEs out of date

meta/argument_specs.yml is the single source of a role's variables; the table sits
between the two marker comments below and is never edited by hand.
"""

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN = '<!-- variables: generated from meta/argument_specs.yml by tests/tools/role_variables.py -->'
END = '<!-- end of variables -->'
# Ansible doc markup -> Markdown code: C(x) V(x) O(x) RV(x) I(x) M(x) E(x).
MARKUP = re.compile(r'\b(?:C|V|O|RV|I|M|E)\(([^()]*(?:\([^()]*\)[^()]*)*)\)')


def _text(value):
    return MARKUP.sub(lambda m: '`%s`' % m.group(1), str(value)).replace('|', '\\|').replace('\n', ' ')


def _default(option):
    if option.get('required'):
        return 'required'
    if 'default' not in option:
        return ''
    value = option['default']
    if isinstance(value, str):
        return '`%s`' % value.replace('|', '\\|') if value else "`''`"
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix('...').strip()
    return '`%s`' % text.replace('|', '\\|')


def table(role):
    spec = yaml.safe_load((role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']['main']
    lines = [BEGIN, '', '| variable | type | default | what |', '|---|---|---|---|']
    for name, option in (spec.get('options') or {}).items():
        description = option.get('description') or ''
        if isinstance(description, list):
            description = ' '.join(str(item) for item in description)
        kind = option.get('type', 'str')
        if kind == 'list' and option.get('elements'):
            kind = 'list of %s' % option['elements']
        lines.append('| `%s` | %s | %s | %s |' % (name, kind, _default(option), _text(description)))
    lines.extend(['', 'Run `ansible-doc -t role crosshost.network.%s` for the same, from the spec.' % role.name, '', END])
    return '\n'.join(lines)


def render(role):
    """The README of ``role`` with its Variables table up to date."""
    readme = (role / 'README.md').read_text()
    new = table(role)
    if BEGIN in readme and END in readme:
        start, stop = readme.index(BEGIN), readme.index(END) + len(END)
        return readme[:start] + new + readme[stop:]
    return readme.rstrip('\n') + '\n\n## Variables\n\n' + new + '\n'


def main(argv):
    check = '--check' in argv
    stale = []
    for role in sorted(p.parent.parent for p in ROOT.glob('roles/*/meta/argument_specs.yml')):
        new = render(role)
        if new != (role / 'README.md').read_text():
            stale.append(str(role / 'README.md'))
            if not check:
                (role / 'README.md').write_text(new)
    if check and stale:
        print('out of date (run .venv/bin/python tests/tools/role_variables.py): %s' % ', '.join(stale))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
