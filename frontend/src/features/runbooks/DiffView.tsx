/** A unified diff, one line per row, added and removed lines marked in words as well as colour. */
export function DiffView({ diff }: { diff: string }) {
  const lines = diff.replace(/\n$/, '').split('\n');
  return (
    <pre className="diff" aria-label="Unified diff">
      {lines.map((l, i) => {
        const kind = l.startsWith('+++') || l.startsWith('---') ? 'file' : l.startsWith('@@') ? 'hunk' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : 'same';
        return (
          <span key={i} className={`diff-line diff-${kind}`}>
            {kind === 'add' && <span className="visually-hidden">added: </span>}
            {kind === 'del' && <span className="visually-hidden">removed: </span>}
            {l}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}
