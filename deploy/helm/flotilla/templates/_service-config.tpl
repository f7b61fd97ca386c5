{{/*
A service's configuration: its ConfigMap, ServiceAccount and environment (see _service.tpl).
*/}}

{{- define "flotilla.service.configData" -}}
{{- $data := dict -}}
{{- range $k, $v := .Values.global.config }}{{ $_ := set $data $k (toString $v) }}{{ end -}}
{{- if .Values.storage -}}
{{- $s3 := .Values.global.s3 -}}
{{- $_ := set $data "S3_ENDPOINT" (toString $s3.endpoint) -}}
{{- $_ := set $data "S3_PUBLIC_ENDPOINT" (toString $s3.publicEndpoint) -}}
{{- $_ := set $data "S3_REGION" (toString $s3.region) -}}
{{- $_ := set $data "S3_BUCKET" (toString $s3.bucket) -}}
{{- $_ := set $data "S3_FORCE_PATH_STYLE" (toString $s3.forcePathStyle) -}}
{{- end -}}
{{- with .Values.global.tracing.otlpEndpoint -}}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" (toString .) -}}
{{- $_ := set $data "OTEL_SERVICE_NAME" $.Chart.Name -}}
{{- end -}}
{{- $_ := set $data "HTTP_PORT" (toString .Values.port) -}}
{{- $_ := set $data "SERVICE_VERSION" (include "flotilla.tag" .) -}}
{{- range $k, $v := .Values.config }}{{ $_ := set $data $k (tpl (toString $v) $) }}{{ end -}}
{{- toYaml $data -}}
{{- end -}}

{{- define "flotilla.service.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-2" | nindent 4 }}
data:
  {{- include "flotilla.service.configData" . | nindent 2 }}
{{- end -}}

{{- define "flotilla.service.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-2" | nindent 4 }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken | default false }}
{{- end -}}

{{/* The secret key of a service's AMQP_URL (its own broker user), e.g. AMQP_URL_VOTE_CONSUMER. */}}
{{- define "flotilla.amqpUrlKey" -}}
{{- printf "AMQP_URL_%s" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/* The container's environment: its ConfigMap, then each secret key it reads (every service signs and verifies internal callers with INTERNAL_TOKEN_SECRET). */}}
{{- define "flotilla.service.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "flotilla.fullname" . }}
env:
  {{- range (concat (list "DATABASE_URL" "REDIS_URL" "AMQP_URL" "INTERNAL_TOKEN_SECRET") (.Values.secretEnv | default list)) }}
  - name: {{ . }}
    valueFrom:
      secretKeyRef:
        name: {{ $.Values.global.secret.name }}
        {{- /* Each service logs in to the broker as its own user: AMQP_URL from AMQP_URL_<SERVICE>. */}}
        key: {{ eq . "AMQP_URL" | ternary (include "flotilla.amqpUrlKey" $.Chart.Name) . }}
  {{- end }}
{{- end -}}
