/**
 * The JSON Schema (draft-07) of a `kind: Store` document (API.md, Stores). Kept as code so
 * every package that builds contracts has it; published as-is by `storeSpecSchema`.
 * Bounds follow what the provisioner accepts elsewhere (1–20 replicas, image-tag versions).
 */
/**
 * Variables the store charts set from the store's generated secrets (and its wiring):
 * a document may not replace them — secrets stay generated.
 */
export const RESERVED_STORE_ENV = [
  'WORDPRESS_DB_HOST', 'WORDPRESS_DB_NAME', 'WORDPRESS_DB_USER', 'WORDPRESS_DB_PASSWORD', 'WORDPRESS_CONFIG_EXTRA',
  ...['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'].map((k) => `WORDPRESS_${k}`),
  'DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'COOKIE_SECRET',
] as const;

const duration = { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' } as const;
const probe = {
  type: 'object',
  additionalProperties: false,
  required: ['httpGet'],
  properties: {
    httpGet: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: { path: { type: 'string', pattern: '^/[^\\s]*$', maxLength: 200 }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
    },
    periodSeconds: { type: 'integer', minimum: 1, maximum: 300 },
    initialDelaySeconds: { type: 'integer', minimum: 0, maximum: 600 },
    timeoutSeconds: { type: 'integer', minimum: 1, maximum: 60 },
    failureThreshold: { type: 'integer', minimum: 1, maximum: 30 },
  },
} as const;

export const STORE_SPEC_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://flotilla.io/schemas/store-spec.json',
  title: 'Store',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'flotilla.io/v1' },
    kind: { const: 'Store' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', minLength: 2, maxLength: 40, pattern: '^[a-z0-9][a-z0-9-]*[a-z0-9]$' } },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['template', 'version', 'replicas'],
      properties: {
        template: { enum: ['wordpress', 'medusa'] },
        version: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' },
        replicas: { type: 'integer', minimum: 1, maximum: 20 },
        env: {
          type: 'array',
          maxItems: 50,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'value'],
            properties: {
              // Plain values only: the names the charts fill from generated secrets are refused (RESERVED_STORE_ENV).
              name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 100, not: { $ref: '#/definitions/reservedEnv' } },
              value: { type: 'string', maxLength: 4096 },
            },
          },
        },
        readinessProbe: probe,
        livenessProbe: probe,
        autoscale: {
          type: 'object',
          additionalProperties: false,
          required: ['minReplicas', 'maxReplicas', 'targetCPUPercent'],
          properties: {
            minReplicas: { type: 'integer', minimum: 1, maximum: 20 },
            maxReplicas: { type: 'integer', minimum: 1, maximum: 20 },
            targetCPUPercent: { type: 'integer', minimum: 1, maximum: 100 },
          },
        },
        rollout: {
          type: 'object',
          additionalProperties: false,
          required: ['strategy'],
          properties: {
            strategy: { enum: ['BlueGreen', 'Canary'] },
            steps: {
              type: 'array',
              minItems: 1,
              items: {
                oneOf: [
                  { type: 'integer', minimum: 1, maximum: 100 },
                  {
                    type: 'object',
                    additionalProperties: false,
                    required: ['weight'],
                    properties: { weight: { type: 'integer', minimum: 1, maximum: 100 }, pause: { oneOf: [duration, { const: 'indefinite' }] } },
                  },
                ],
              },
            },
            scaleDownDelaySeconds: { type: 'integer', minimum: 0, maximum: 3600 },
            analysis: {
              type: 'object',
              additionalProperties: false,
              required: ['interval', 'successCondition', 'failureLimit', 'onNoData'],
              properties: {
                interval: duration,
                successCondition: { type: 'string', minLength: 1, maxLength: 500 },
                failureLimit: { type: 'integer', minimum: 1, maximum: 100 },
                onNoData: { enum: ['pause', 'fail'] },
              },
            },
          },
        },
      },
    },
  },
  definitions: {
    reservedEnv: { type: 'string', enum: RESERVED_STORE_ENV },
  },
} as const;
