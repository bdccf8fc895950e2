// A small tokenizer for the API definitions the catalog holds (OpenAPI and AsyncAPI as YAML or
// JSON, GraphQL SDL): it splits the text into typed pieces that the page renders as React text
// inside spans, so a definition is never parsed as markup (no innerHTML, no inline styles under the
// CSP). It colours what helps reading (keys, strings, numbers, keywords, comments), not a grammar:
// whatever it does not recognise stays plain text, and the pieces always join back to the input.
import type { Language } from './language';

/** What a piece of the definition is; plain pieces get no colour. */
export type TokenType = 'plain' | 'key' | 'string' | 'number' | 'literal' | 'comment' | 'keyword' | 'type' | 'directive' | 'punct';

export interface Token {
  type: TokenType;
  text: string;
}

type Rule = [RegExp, TokenType | ((m: RegExpExecArray, rest: string) => TokenType)];

// Each rule is sticky (y): tried at the current position, in order; the first match wins.
const json: Rule[] = [
  [/\s+/y, 'plain'],
  [/"(?:[^"\\\n]|\\.)*"(?=\s*:)/y, 'key'],
  [/"(?:[^"\\\n]|\\.)*"?/y, 'string'],
  [/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y, 'number'],
  [/\b(?:true|false|null)\b/y, 'literal'],
  [/[{}[\],:]/y, 'punct'],
];

const yamlValue = /^(?:true|false|null|yes|no|on|off|~)$/i;
const yaml: Rule[] = [
  [/[ \t]+/y, 'plain'],
  [/\n/y, 'plain'],
  [/#[^\n]*/y, 'comment'],
  [/---|\.\.\./y, 'punct'],
  [/- (?=\S)/y, 'punct'],
  // A key: at the start of a line (after indentation and "- "), up to ": " or ":" at the end.
  [/(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s#'"{}[\],:][^\n:#]*?)(?=:(?:[ \t]|\n|$))/y, 'key'],
  [/:(?=[ \t]|\n|$)/y, 'punct'],
  [/"(?:[^"\\\n]|\\.)*"?|'(?:[^'\n]|'')*'?/y, 'string'],
  [/[|>][-+]?(?=[ \t]*(?:\n|$))/y, 'punct'],
  [/[&*][^\s,{}[\]]+/y, 'type'],
  [/[{}[\],]/y, 'punct'],
  // A plain scalar up to a comment or the line's end: a number or literal when it is one.
  [/[^\n]*?(?=[ \t]+#|[ \t]*(?:\n|$))/y, (m) => (/^-?\d+(?:\.\d+)?$/.test(m[0]) ? 'number' : yamlValue.test(m[0]) ? 'literal' : 'string')],
];

const graphqlKeywords = /^(?:type|input|enum|interface|union|scalar|schema|extend|directive|query|mutation|subscription|fragment|on|implements|repeatable|true|false|null)$/;
const graphql: Rule[] = [
  [/\s+|,/y, 'plain'],
  [/#[^\n]*/y, 'comment'],
  [/"""[\s\S]*?(?:"""|$)/y, 'string'],
  [/"(?:[^"\\\n]|\\.)*"?/y, 'string'],
  [/@[_A-Za-z][_0-9A-Za-z]*/y, 'directive'],
  [/\$?[_A-Za-z][_0-9A-Za-z]*/y, (m, rest) =>
    graphqlKeywords.test(m[0]) ? 'keyword' : /^[A-Z]/.test(m[0]) ? 'type' : /^\s*[:(]/.test(rest) ? 'key' : 'plain'],
  [/-?\d+(?:\.\d+)?/y, 'number'],
  [/[{}()[\]:=!|&]|\.\.\./y, 'punct'],
];

const rules: Record<Exclude<Language, 'text'>, Rule[]> = { json, yaml, graphql };

// A line that opens a YAML block scalar (key: | or key: >, with its modifiers and a comment).
const blockOpener = /:[ \t]+[|>][-+0-9]*[ \t]*(?:#.*)?$/;

/**
 * Splits text into tokens of lang. Bounded: past maxChars the rest is one plain token, so a huge
 * definition costs no more than its first part.
 */
export function tokenize(text: string, lang: Language, maxChars = 200_000): Token[] {
  if (lang === 'text') return [{ type: 'plain', text }];
  const out: Token[] = [];
  const push = (type: TokenType, s: string) => {
    const last = out[out.length - 1];
    if (last && last.type === type) last.text += s;
    else out.push({ type, text: s });
  };
  const head = text.slice(0, maxChars);
  if (lang === 'yaml') {
    // Line by line, for block scalars: the lines indented under "key: |" are one string, colons
    // and all.
    let block = -1; // the indentation of the key that opened a block scalar, or -1
    for (const line of head.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
      const indent = line.length - line.trimStart().length;
      if (block >= 0 && (line.trim() === '' || indent > block)) {
        push('string', line);
        continue;
      }
      block = -1;
      scan(line, rules.yaml, push);
      if (blockOpener.test(line.trimEnd())) block = indent;
    }
  } else {
    scan(head, rules[lang], push);
  }
  // Not merged into the last token: the part past the bound is always its own piece.
  if (head.length < text.length) out.push({ type: 'plain', text: text.slice(head.length) });
  return out;
}

function scan(text: string, rs: Rule[], push: (type: TokenType, s: string) => void) {
  let i = 0;
  while (i < text.length) {
    let matched = false;
    for (const [re, type] of rs) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (m && m[0].length > 0) {
        const t = typeof type === 'function' ? type(m, text.slice(i + m[0].length, i + m[0].length + 64)) : type;
        push(t, m[0]);
        i += m[0].length;
        matched = true;
        break;
      }
    }
    if (!matched) {
      push('plain', text[i]);
      i++;
    }
  }
}
