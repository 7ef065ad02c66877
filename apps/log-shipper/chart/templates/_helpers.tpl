{{- define "log-shipper.labels" -}}
app.kubernetes.io/name: log-shipper
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "log-shipper.selector" -}}
app.kubernetes.io/name: log-shipper
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
