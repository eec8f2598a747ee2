"""Write (or check) every role's defaults/main.yml and README "Variables" table from its argument spec.

    .venv/bin/python tests/tools/role_variables.py          rewrite roles/*/defaults/main.yml and the README tables
    .venv/bin/python tests/tools/role_variables.py --check  exit 1 and name the files out of date

meta/argument_specs.yml is the single source of a role's variables and defaults: Ansible
reads a role's defaults from defaults/main.yml, so that file is generated from the spec,
like the README table (between the two marker comments below); neither is edited by hand.
"""

import pathlib
import re
import sys
import textwrap

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN = '<!-- variables: generated from meta/argument_specs.yml by tests/tools/role_variables.py -->'
END = '<!-- end of variables -->'
# Ansible doc markup -> Markdown code: C(x) V(x) O(x) RV(x) I(x) M(x) E(x).
MARKUP = re.compile(r'\b(?:C|V|O|RV|I|M|E)\(([^()]*(?:\([^()]*\)[^()]*)*)\)')


DEFAULTS_HEADER = ('---\n# Generated from meta/argument_specs.yml by tests/tools/role_variables.py:'
                   ' edit the spec, not this file.\n')


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key (as yamllint and ansible-lint want them)."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _spec(role):
    return yaml.safe_load((role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']['main']


def _plain(value):
    """A spec description as one line of plain text (doc markup C(x) -> x)."""
    if isinstance(value, list):
        value = ' '.join(str(item) for item in value)
    return MARKUP.sub(lambda m: m.group(1), str(value or '')).replace('\n', ' ')


def defaults(role):
    """defaults/main.yml of ``role``: every spec default, with its description as a comment.

    An option without a default (a required input, or one derived when unset) is
    listed as a comment, so the file still names every variable of the role.
    """
    lines = [DEFAULTS_HEADER.rstrip('\n')]
    for name, option in (_spec(role).get('options') or {}).items():
        lines.append('')
        lines.extend(textwrap.wrap(_plain(option.get('description')), width=100, initial_indent='# ',
                                   subsequent_indent='# ', break_on_hyphens=False))
        if 'default' in option:
            lines.append(yaml.dump({name: option['default']}, Dumper=_Dumper, default_flow_style=False,
                                   sort_keys=False, width=1000).rstrip('\n'))
        else:
            lines.append('# %s: %s' % (name, 'required' if option.get('required') else 'no default'))
    return '\n'.join(lines) + '\n'


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
    spec = _spec(role)
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


def generated(role):
    """{path: content} of the files of ``role`` generated from its argument spec."""
    return {role / 'README.md': render(role), role / 'defaults' / 'main.yml': defaults(role)}


def main(argv):
    check = '--check' in argv
    stale = []
    for role in sorted(p.parent.parent for p in ROOT.glob('roles/*/meta/argument_specs.yml')):
        for path, new in generated(role).items():
            if not path.exists() or new != path.read_text():
                stale.append(str(path.relative_to(ROOT)))
                if not check:
                    path.parent.mkdir(exist_ok=True)
                    path.write_text(new)
    if check and stale:
        print('out of date (run .venv/bin/python tests/tools/role_variables.py): %s' % ', '.join(stale))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
