{{/*
A service's pods: the Deployment and the migration Job, and what their pod specs share (see _service.tpl).
*/}}

{{- define "flotilla.service.podSpecCommon" -}}
serviceAccountName: {{ include "flotilla.fullname" . }}
securityContext:
  {{- toYaml .Values.global.podSecurityContext | nindent 2 }}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSize | default "256Mi" }}
{{- end -}}

{{- define "flotilla.service.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
  annotations:
    {{- include "flotilla.wave" "0" | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        {{- include "flotilla.labels" . | nindent 8 }}
        app.kubernetes.io/component: server
      annotations:
        checksum/config: {{ include "flotilla.service.configData" . | sha256sum }}
    spec:
      {{- include "flotilla.service.podSpecCommon" . | nindent 6 }}
      automountServiceAccountToken: {{ .Values.serviceAccount.automountToken | default false }}
      # preStop (5 s) + SHUTDOWN_GRACE_MS + closing connections.
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds | default 30 }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "flotilla.selectorLabels" . | nindent 14 }}
              app.kubernetes.io/component: server
      containers:
        - name: {{ .Chart.Name }}
          image: {{ include "flotilla.image" . }}
          imagePullPolicy: {{ .Values.global.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.port }}
              protocol: TCP
          {{- include "flotilla.service.env" . | nindent 10 }}
          # Migrations, connections and consumers done: /health/startup answers 200.
          startupProbe:
            httpGet: { path: /health/startup, port: http }
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: {{ dig "startupFailureThreshold" 60 (.Values.probes | default dict) }}
          livenessProbe:
            httpGet: { path: /health/live, port: http }
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          # Every dependency answers (each check has its own 2 s timeout).
          readinessProbe:
            httpGet: { path: /health/ready, port: http }
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          lifecycle:
            # Leave the Service's endpoints before the process stops taking work.
            preStop:
              exec:
                command: ["sleep", "5"]
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.global.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
{{- end -}}

{{/*
The migration Job: the service's image with MIGRATE_ONLY=true runs the service's
migrations and exits. An Argo CD Sync hook in wave -1: after the configuration (wave -2),
before the Deployments (wave 0); the previous run is deleted before a new one starts.
Its name carries the Helm revision so that a plain `helm upgrade` creates a new Job
instead of changing an immutable one.
*/}}
{{- define "flotilla.service.migrationJob" -}}
{{- if .Values.migration.enabled }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-migrate-%d" (include "flotilla.fullname" .) (int .Release.Revision) | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    argocd.argoproj.io/hook: Sync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
    {{- include "flotilla.wave" "-1" | nindent 4 }}
spec:
  backoffLimit: {{ .Values.global.migration.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.global.migration.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "flotilla.labels" . | nindent 8 }}
        app.kubernetes.io/component: migration
    spec:
      {{- include "flotilla.service.podSpecCommon" . | nindent 6 }}
      automountServiceAccountToken: false
      restartPolicy: Never
      containers:
        - name: migrate
          image: {{ include "flotilla.image" . }}
          imagePullPolicy: {{ .Values.global.image.pullPolicy }}
          {{- include "flotilla.service.env" . | nindent 10 }}
            - name: MIGRATE_ONLY
              value: "true"
          resources:
            {{- toYaml .Values.global.migration.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.global.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
{{- end }}
{{- end -}}
