{{- define "alert-bridge.labels" -}}
app.kubernetes.io/name: alert-bridge
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "alert-bridge.selector" -}}
app.kubernetes.io/name: alert-bridge
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
