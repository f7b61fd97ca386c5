/** A row of labelled filter inputs applied together with "Apply" (or Enter), cleared with "Clear". */
import { useId, useState, type FormEvent } from 'react';

export interface FilterField {
  name: string;
  label: string;
  type?: 'text' | 'number' | 'select' | 'datetime-local';
  options?: { value: string; label: string }[];
  placeholder?: string;
  min?: number;
  max?: number;
  /** Suggestions for a text field. */
  suggestions?: readonly string[];
}

export type FilterValues = Record<string, string>;

interface FiltersProps {
  label: string;
  fields: FilterField[];
  values: FilterValues;
  onApply: (values: FilterValues) => void;
}

export function Filters({ label, fields, values, onApply }: FiltersProps) {
  const id = useId();
  const [draft, setDraft] = useState<FilterValues>(values);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  const clear = () => {
    const empty = Object.fromEntries(fields.map((f) => [f.name, '']));
    setDraft(empty);
    onApply(empty);
  };
  return (
    <form className="filters" role="search" aria-label={label} onSubmit={submit}>
      {fields.map((field) => {
        const inputId = `${id}-${field.name}`;
        const value = draft[field.name] ?? '';
        const set = (v: string) => setDraft((d) => ({ ...d, [field.name]: v }));
        return (
          <div className="field" key={field.name}>
            <label htmlFor={inputId}>{field.label}</label>
            {field.type === 'select' ? (
              <select id={inputId} name={field.name} value={value} onChange={(e) => set(e.target.value)}>
                {(field.options ?? []).map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={inputId}
                name={field.name}
                type={field.type ?? 'text'}
                value={value}
                placeholder={field.placeholder}
                min={field.min}
                max={field.max}
                list={field.suggestions ? `${inputId}-list` : undefined}
                onChange={(e) => set(e.target.value)}
              />
            )}
            {field.suggestions && (
              <datalist id={`${inputId}-list`}>
                {field.suggestions.map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            )}
          </div>
        );
      })}
      <div className="filter-actions">
        <button type="submit" className="button button-primary">
          Apply
        </button>
        <button type="button" className="button" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}
