import { readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';

/** A Kubernetes object as YAML gives it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** Every non-empty document of a multi-document YAML stream; a syntax error throws. */
export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

export function readManifests(path: string): K8sObject[] {
  return parseManifests(readFileSync(path, 'utf8'));
}

/** One YAML document with merge keys (`<<:`) resolved, as Docker Compose reads it. */
export function readYaml<T = any>(path: string): T { // eslint-disable-line @typescript-eslint/no-explicit-any
  return parse(readFileSync(path, 'utf8'), { merge: true, prettyErrors: true }) as T;
}

export const byKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);

export const annotation = (o: K8sObject, key: string): string | undefined => o.metadata.annotations?.[key];

/** The pod template's spec of a workload (Deployment, StatefulSet, Job), or undefined. */
export function podSpec(o: K8sObject): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  return o.spec?.template?.spec;
}
