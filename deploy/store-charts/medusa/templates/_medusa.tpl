{{/* The Medusa server's environment, shared by the app, its migrations and the install Job. */}}
{{- define "medusa.env" -}}
{{- $fullname := include "store.fullname" . -}}
{{- $url := printf "%s://%s" (include "store.scheme" .) .Values.host -}}
- name: NODE_ENV
  value: production
- name: PORT
  value: {{ .Values.app.port | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $fullname }}-secrets
      key: database-url
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $fullname }}-secrets
      key: redis-url
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $fullname }}-secrets
      key: jwt-secret
- name: COOKIE_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $fullname }}-secrets
      key: cookie-secret
- name: MEDUSA_BACKEND_URL
  value: {{ $url | quote }}
- name: STORE_CORS
  value: {{ $url | quote }}
- name: ADMIN_CORS
  value: {{ $url | quote }}
- name: AUTH_CORS
  value: {{ $url | quote }}
- name: MEDUSA_WORKER_MODE
  value: shared
{{- end }}

{{/* The migration command of a version: `medusa migrations run` for 1.x, `medusa db:migrate` after, unless app.migrateCommand says otherwise. */}}
{{- define "medusa.migrateCommand" -}}
{{- $command := .root.Values.app.migrateCommand -}}
{{- if not $command -}}
{{- if regexMatch "^v?1[.]" .version -}}
{{- $command = list "npx" "medusa" "migrations" "run" -}}
{{- else -}}
{{- $command = list "npx" "medusa" "db:migrate" -}}
{{- end -}}
{{- end -}}
{{- toJson $command -}}
{{- end }}
