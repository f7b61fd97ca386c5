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
