// A WHERE clause from the conditions that apply: each condition with its one parameter, left out
// when the value is undefined (a filter not given).
export function conditions(parts: [string, unknown][]): { where: string; params: unknown[] } {
  const present = parts.filter(([, v]) => v !== undefined);
  return {
    where: present.length ? `WHERE ${present.map(([c]) => c).join(' AND ')}` : '',
    params: present.map(([, v]) => v),
  };
}
