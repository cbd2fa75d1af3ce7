{{/* Names and labels shared by every template. */}}

{{- define "image-bot.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "image-bot.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "image-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "image-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "image-bot.labels" -}}
{{ include "image-bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "image-bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "image-bot.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "image-bot.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "image-bot.claimName" -}}
{{- default (printf "%s-state" (include "image-bot.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* The pod both modes run: image-bot with the config, the state volume and the secrets. */}}
{{- define "image-bot.podSpec" -}}
serviceAccountName: {{ include "image-bot.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: config
    configMap:
      name: {{ default (include "image-bot.fullname" .) .Values.existingConfigMap }}
  - name: state
    {{- if .Values.persistence.enabled }}
    persistentVolumeClaim:
      claimName: {{ include "image-bot.claimName" . }}
    {{- else }}
    emptyDir: {}   # persistence.enabled=false: min_age counts from each restart
    {{- end }}
  - name: cache
    emptyDir:
      sizeLimit: {{ .Values.cache.sizeLimit }}
  - name: tmp
    emptyDir: {}
{{- end -}}

{{- define "image-bot.container" -}}
name: image-bot
image: {{ include "image-bot.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
env:
  - name: HOME
    value: /tmp
  - name: XDG_CACHE_HOME
    value: /var/cache/image-bot
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if .Values.secretName }}
envFrom:
  - secretRef:
      name: {{ .Values.secretName }}
{{- end }}
resources:
  {{- toYaml .Values.resources | nindent 2 }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
volumeMounts:
  - name: config
    mountPath: /etc/image-bot
    readOnly: true
  - name: state
    mountPath: /var/lib/image-bot
  - name: cache
    mountPath: /var/cache/image-bot
  - name: tmp
    mountPath: /tmp
{{- end -}}
