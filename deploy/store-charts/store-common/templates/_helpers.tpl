{{/*
The named templates every store chart shares. They are included with the store chart's
own context, so .Chart is the store chart (labels name wordpress or medusa, not this
library) and .Values its values.
*/}}

{{/*
The release is named after the store ({name}, at most 40 characters), so every
resource name ({release}-r{revision}, {release}-mariadb, ...) stays a valid DNS label.
*/}}
{{- define "store.fullname" -}}
{{- if gt (len .Release.Name) 40 -}}
{{- fail (printf "release name %q is longer than 40 characters" .Release.Name) -}}
{{- end -}}
{{- .Release.Name -}}
{{- end }}

{{- define "store.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of a StatefulSet's volume claim templates: the API refuses any change to those in
an existing StatefulSet, so nothing is ever added here (an upgrade would fail).
*/}}
{{- define "store.claimLabels" -}}
{{ include "store.selectorLabels" . }}
app.kubernetes.io/part-of: flotilla
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
flotilla.io/store: {{ .Release.Name }}
{{- end }}

{{/*
Labels of every object and pod template. `installation` (the provisioner's installation
id) tells apart the objects of installations sharing a cluster; it stays out of
selectorLabels, since a Deployment's selector cannot change once created.
*/}}
{{- define "store.labels" -}}
{{ include "store.claimLabels" . }}
{{- with .Values.installation }}
flotilla.io/installation: {{ . }}
{{- end }}
{{- end }}

{{/*
Every secret the chart needs, each checked with `required`: a missing one fails
rendering instead of falling back to a default.
*/}}
{{- define "store.secret" -}}
{{- $root := index . 0 -}}
{{- $key := index . 1 -}}
{{- $value := index ($root.Values.secrets | default dict) $key -}}
{{- required (printf "secrets.%s is required (a generated secret, never a default)" $key) $value -}}
{{- end }}

{{/*
Traffic routing from .Values.revisions, as JSON:
  main     the revision with the highest weight (on a tie, the lower revision): the host's backend
  canary   a second revision with a weight of 1-99 (nginx canary Ingress), or empty
  previews revisions with weight 0: running, no traffic, behind {release}-preview
The weights must add up to 100 and revision numbers must be unique.
*/}}
{{- define "store.routing" -}}
{{- $revisions := .Values.revisions | default list -}}
{{- if not $revisions -}}
{{- fail "revisions is required: at least one {revision, version, replicas, weight}" -}}
{{- end -}}
{{- $total := 0 -}}
{{- $seen := dict -}}
{{- $main := dict -}}
{{- range $revisions -}}
{{- $number := int .revision -}}
{{- if hasKey $seen (toString $number) -}}
{{- fail (printf "revisions: revision %d is listed twice" $number) -}}
{{- end -}}
{{- $_ := set $seen (toString $number) true -}}
{{- $total = add $total (int .weight) -}}
{{- if or (not $main) (gt (int .weight) (int $main.weight)) (and (eq (int .weight) (int $main.weight)) (lt $number (int $main.revision))) -}}
{{- $main = . -}}
{{- end -}}
{{- end -}}
{{- if ne (int $total) 100 -}}
{{- fail (printf "revisions: the weights add up to %d, not 100" (int $total)) -}}
{{- end -}}
{{- $canary := dict -}}
{{- $previews := list -}}
{{- range $revisions -}}
{{- if ne (int .revision) (int $main.revision) -}}
{{- if eq (int .weight) 0 -}}
{{- $previews = append $previews . -}}
{{- else if $canary -}}
{{- fail "revisions: at most one revision besides the main one may receive traffic" -}}
{{- else -}}
{{- $canary = . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if gt (len $previews) 1 -}}
{{- fail "revisions: at most one preview revision (weight 0)" -}}
{{- end -}}
{{- dict "main" $main "canary" $canary "previews" $previews | toJson -}}
{{- end }}

{{/* Pod-level hardening: non-root with the image's own user, RuntimeDefault seccomp. */}}
{{- define "store.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "store.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Egress to the cluster DNS, on any namespace's kube-dns pods. */}}
{{- define "store.dnsEgress" -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end }}

{{- define "store.scheme" -}}
{{- if .Values.ingress.tls.enabled }}https{{ else }}http{{ end -}}
{{- end }}
