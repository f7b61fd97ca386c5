import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';

import { DECORATORS, type OpenAPIObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';

type SchemaLike = Record<string, unknown> & { properties?: Record<string, SchemaLike>; items?: SchemaLike };
type Class = abstract new (...args: never[]) => unknown;
type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

const BUILT_IN = new Set<unknown>([String, Number, Boolean, Object, Array, Promise, Date]);

/**
 * The request DTOs' class-validator rules, written into their schemas (maxLength, maxItems,
 * formats, bounds, enums, patterns) where the `@ApiProperty` does not state them: the
 * document says what the validation pipe enforces, from the one place that enforces it.
 */
export function applyValidationLimits(app: INestApplication, document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaLike>;
  for (const dto of requestClasses(app)) {
    const schema = schemas[dto.name];
    if (!schema?.properties) continue;
    for (const rule of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
      const property = schema.properties[rule.propertyName];
      if (!property || '$ref' in property || 'allOf' in property) continue;
      const target = rule.each && property.type === 'array' && property.items && !('$ref' in property.items) ? property.items : property;
      for (const [key, value] of Object.entries(keywordsOf(rule))) if (!(key in target)) target[key] = value;
    }
  }
}

/** The JSON Schema keywords a class-validator rule amounts to (those it has none for give nothing). */
function keywordsOf(rule: ValidationMetadata): Record<string, unknown> {
  const c = (rule.constraints ?? []) as unknown[];
  switch (rule.name) {
    case 'maxLength':
      return { maxLength: c[0] };
    case 'minLength':
      return { minLength: c[0] };
    case 'isLength':
      return { minLength: c[0], ...(typeof c[1] === 'number' ? { maxLength: c[1] } : {}) };
    case 'arrayMaxSize':
      return { maxItems: c[0] };
    case 'arrayMinSize':
      return { minItems: c[0] };
    case 'arrayNotEmpty':
      return { minItems: 1 };
    case 'arrayUnique':
      return { uniqueItems: true };
    case 'max':
      return { maximum: c[0] };
    case 'min':
      return { minimum: c[0] };
    case 'isUuid':
      return { format: 'uuid' };
    case 'isEmail':
      return { format: 'email' };
    case 'isUrl':
      return { format: 'uri' };
    case 'isIso8601':
    case 'isDateString':
      return { format: 'date-time' };
    case 'isIn':
      return Array.isArray(c[0]) ? { enum: c[0] } : {};
    case 'matches':
      return c[0] instanceof RegExp ? { pattern: c[0].source } : typeof c[0] === 'string' ? { pattern: c[0] } : {};
    default:
      return {};
  }
}

/** The classes the controllers take (bodies, queries), and every class nested in them. */
function requestClasses(app: INestApplication): Set<Class> {
  const found = new Set<Class>();
  const visit = (type: unknown): void => {
    if (typeof type !== 'function' || BUILT_IN.has(type) || found.has(type as Class)) return;
    found.add(type as Class);
    const names = (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, type.prototype as object) ?? []) as string[];
    for (const name of names) {
      const meta = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, type.prototype as object, name.replace(/^:/, '')) as { type?: unknown } | undefined;
      visit(nestedClass(meta?.type));
    }
  };
  for (const module of app.get(ModulesContainer).values()) {
    for (const controller of module.controllers.values()) {
      const proto = (controller.metatype as Class | undefined)?.prototype as object | undefined;
      if (!proto) continue;
      for (const method of Object.getOwnPropertyNames(proto)) {
        for (const param of (Reflect.getMetadata('design:paramtypes', proto, method) ?? []) as unknown[]) visit(param);
      }
    }
  }
  return found;
}

/** `X`, `[X]` or `() => X` (a lazy type) as X; anything else as undefined. */
function nestedClass(type: unknown): unknown {
  if (Array.isArray(type)) return nestedClass(type[0]);
  if (typeof type !== 'function') return undefined;
  if (type.prototype === undefined) return nestedClass((type as () => unknown)());
  return type;
}
