import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { tokenize } from './highlight';
import { languageOf, type Language } from './language';
import Highlighted from './Highlighted';
import { Definition } from './Definition';

const openapi = `openapi: 3.0.3
info:
  title: "Payments" # the public name
  version: 1.2
paths:
  /payments:
    post:
      deprecated: false
      description: |
        Takes a payment: see http://x.example/#anchor
`;

const sdl = `"""A payment."""
type Payment implements Node @key(fields: "id") {
  # the amount in cents
  amount(currency: String = "EUR"): Int!
}
`;

const json = `{"openapi": "3.1.0", "info": {"title": "x", "version": 2, "x-beta": true}}`;

const pieces = (text: string, lang: Language) => tokenize(text, lang).filter((t) => t.type !== 'plain').map((t) => `${t.type}:${t.text.trim()}`);

describe('tokenize', () => {
  it('always joins back to the input', () => {
    for (const [text, lang] of [[openapi, 'yaml'], [sdl, 'graphql'], [json, 'json'], ['a: "unterminated\n- [x', 'yaml'], ['{"a": ', 'json'], ['"""open', 'graphql']] as [string, Language][]) {
      expect(tokenize(text, lang).map((t) => t.text).join('')).toBe(text);
    }
  });

  it('finds YAML keys, strings, numbers, literals and comments', () => {
    const p = pieces(openapi, 'yaml');
    expect(p).toContain('key:openapi');
    expect(p).toContain('key:/payments');
    expect(p).toContain('string:"Payments"');
    expect(p).toContain('comment:# the public name');
    expect(p).toContain('number:1.2');
    expect(p).toContain('literal:false');
    // A block scalar's lines are one string, colons and # included.
    expect(p).toContain('string:Takes a payment: see http://x.example/#anchor');
    expect(p).not.toContain('key:Takes a payment');
  });

  it('does not take a # inside a value for a comment', () => {
    expect(pieces('url: http://x.example/#top # home\n', 'yaml')).toEqual(['key:url', 'punct::', 'string:http://x.example/#top', 'comment:# home']);
  });

  it('finds JSON keys apart from string values', () => {
    const p = pieces(json, 'json');
    expect(p).toEqual(expect.arrayContaining(['key:"openapi"', 'string:"3.1.0"', 'key:"version"', 'number:2', 'literal:true']));
    expect(p).not.toContain('key:"3.1.0"');
  });

  it('finds GraphQL keywords, types, directives, fields and descriptions', () => {
    const p = pieces(sdl, 'graphql');
    expect(p).toEqual(expect.arrayContaining(['string:"""A payment."""', 'keyword:type', 'type:Payment', 'keyword:implements', 'directive:@key', 'key:amount', 'key:currency', 'type:String', 'comment:# the amount in cents']));
  });

  it('stops colouring past its bound and keeps the rest as text', () => {
    const big = 'a: 1\n'.repeat(1000);
    const t = tokenize(big, 'yaml', 100);
    expect(t.map((x) => x.text).join('')).toBe(big);
    expect(t.at(-1)!.text.length).toBe(big.length - 100);
  });
});

describe('languageOf', () => {
  it('reads the type and the first character', () => {
    expect(languageOf('openapi', openapi)).toBe('yaml');
    expect(languageOf('openapi', '  {"openapi": "3"}')).toBe('json');
    expect(languageOf('asyncapi', 'asyncapi: 2.6.0')).toBe('yaml');
    expect(languageOf('graphql', sdl)).toBe('graphql');
    expect(languageOf('grpc', 'syntax = "proto3";')).toBe('text');
  });
});

describe('Highlighted', () => {
  it('shows markup in a definition as text, never as elements', () => {
    const evil = `description: <img src=x onerror=alert(1)><script>alert(2)</script>\n"<b>k</b>": 1\n`;
    const { container } = render(<Highlighted text={evil} lang="yaml" />);
    expect(container.querySelector('img, script, b')).toBeNull();
    expect(container.textContent).toBe(evil);
    expect(container.querySelector('.hl-string')!.textContent).toBe('<img src=x onerror=alert(1)><script>alert(2)</script>');
  });

  it('colours through classes only: no inline style (the CSP forbids them)', () => {
    const { container } = render(<Highlighted text={sdl} lang="graphql" />);
    expect(container.querySelectorAll('[style]')).toHaveLength(0);
    expect(container.querySelectorAll('span.hl-keyword').length).toBeGreaterThan(0);
  });
});

describe('Definition', () => {
  it('loads the highlighter lazily and shows the definition, plain until then', async () => {
    render(<Definition type="graphql" definition={sdl} />);
    expect(screen.getByLabelText('API definition').textContent).toBe(sdl);
    await screen.findByText('Payment', { selector: 'span.hl-type' });
    expect(screen.getByText(/GraphQL SDL/)).toBeTruthy();
  });

  it('says so when there is no definition', () => {
    render(<Definition type="openapi" definition="" />);
    expect(screen.getByText(/has no definition/)).toBeTruthy();
  });
});
