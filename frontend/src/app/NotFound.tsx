import { Link } from 'react-router';

export function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. Try the <Link to="/catalog">catalog</Link>.
      </p>
    </>
  );
}
