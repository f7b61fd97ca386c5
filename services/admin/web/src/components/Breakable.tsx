/** Long paths and names that may wrap after their separators (`/`, `.`), not in the middle of a word. */
import { Fragment } from 'react';

export function Breakable({ text, after = /([/.])/ }: { text: string; after?: RegExp }) {
  return (
    <>
      {text.split(after).map((part, i) => (
        <Fragment key={i}>
          {part}
          {after.test(part) && <wbr />}
        </Fragment>
      ))}
    </>
  );
}
