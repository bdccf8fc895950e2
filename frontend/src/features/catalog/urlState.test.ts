import { describe, expect, it } from 'vitest';
import { readState, toFilter, withFilter, withSort, withText, writeState } from './urlState';

describe('the explorer state in the URL', () => {
  it('reads what a deep link says and writes it back unchanged', () => {
    const link = 'q=pay+api&kind=Component&kind=API&owner=group%3Adefault%2Fteam-payments&sort=updated&dir=desc&c=abc';
    const state = readState(new URLSearchParams(link));
    expect(state.q).toBe('pay api');
    expect(state.filters.kind).toEqual(['Component', 'API']);
    expect(state.filters.owner).toEqual(['group:default/team-payments']);
    expect(state.sort).toBe('updated');
    expect(state.desc).toBe(true);
    expect(state.cursors).toEqual(['abc']);
    expect(writeState(state).toString()).toBe(link);
  });

  it('starts again at the first page when what is shown changes', () => {
    const paged = readState(new URLSearchParams('q=pay&c=one&c=two'));
    expect(withText(paged, 'refund').cursors).toEqual([]);
    expect(withFilter(paged, 'tag', ['go']).cursors).toEqual([]);
    expect(withSort(paged, 'kind', false).cursors).toEqual([]);
  });

  it('leaves defaults out of the URL and empty fields out of the API filter', () => {
    const state = readState(new URLSearchParams(''));
    expect(writeState(state).toString()).toBe('');
    expect(toFilter(state)).toEqual({});
    expect(toFilter(withFilter(withText(state, '  pay '), 'lifecycle', ['production']))).toEqual({ text: 'pay', lifecycles: ['production'] });
  });
});
