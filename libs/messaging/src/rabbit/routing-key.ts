/**
 * AMQP topic matching, as the broker does it for bindings: words separated by `.`,
 * `*` matches exactly one word, `#` zero or more. Used to dispatch the events of a
 * service's single queue to the subscriptions whose keys match.
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const word = pattern[p];
  if (word === '#') {
    // Try every possible number of words for '#', shortest first.
    for (let skip = k; skip <= key.length; skip++) {
      if (matchWords(pattern, p + 1, key, skip)) return true;
    }
    return false;
  }
  if (k === key.length) return false;
  return (word === '*' || word === key[k]) && matchWords(pattern, p + 1, key, k + 1);
}

/** Checks a binding key: non-empty dotted words, or `*` / `#`. */
export function assertBindingKey(key: string): void {
  if (!/^([A-Za-z0-9_-]+|\*|#)(\.([A-Za-z0-9_-]+|\*|#))*$/.test(key)) {
    throw new RangeError(`"${key}" is not a valid binding key (dotted words, * or #)`);
  }
}
