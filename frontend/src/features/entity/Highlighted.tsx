import { tokenize } from './highlight';
import type { Language } from './language';

/**
 * A definition with its pieces coloured: each token is React text in a span with a class (the
 * stylesheet colours them), so nothing in the definition is ever read as markup. Loaded lazily by
 * the API page (see Definition).
 */
export default function Highlighted({ text, lang }: { text: string; lang: Language }) {
  return (
    <code className={`hl hl-${lang}`}>
      {tokenize(text, lang).map((t, i) => (t.type === 'plain' ? t.text : <span key={i} className={`hl-${t.type}`}>{t.text}</span>))}
    </code>
  );
}
