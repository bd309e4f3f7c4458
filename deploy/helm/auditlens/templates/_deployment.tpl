{{/*
A Deployment of a stateless component (the API, the dispatcher): one role of the image
on one port, with the shared security context, probes and scratch volumes.
(dict "root" $ "component" "api" "port" 8080 "portName" "http" "portSetting" "AUDITLENS_API_PORT")
*/}}
{{- define "auditlens.statelessDeployment" -}}
{{- $root := .root -}}
{{- $component := .component -}}
{{- $values := index $root.Values $component -}}
{{- $port := .port -}}
{{- $portName := .portName -}}
{{- $portSetting := .portSetting -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "auditlens.fullname" $root }}-{{ $component }}
  labels:
    {{- include "auditlens.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $component }}
spec:
  replicas: {{ $values.replicas }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  selector:
    matchLabels:
      {{- include "auditlens.selectorLabels" (dict "root" $root "component" $component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "auditlens.selectorLabels" (dict "root" $root "component" $component) | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "auditlens.serviceAccountName" $root }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "auditlens.podSecurityContext" $root | nindent 8 }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $component }}
          image: {{ include "auditlens.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["serve", "--role", {{ $component | quote }}]
          envFrom:
            {{- include "auditlens.envFrom" $root | nindent 12 }}
          env:
            - name: {{ $portSetting }}
              value: {{ $port | quote }}
          ports:
            - name: {{ $portName }}
              containerPort: {{ $port }}
              protocol: TCP
          {{- include "auditlens.probes" (dict "root" $root "port" $portName) | nindent 10 }}
          securityContext:
            {{- include "auditlens.containerSecurityContext" $root | nindent 12 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          volumeMounts:
            {{- include "auditlens.scratchMounts" $root | nindent 12 }}
      volumes:
        {{- include "auditlens.scratchVolumes" $root | nindent 8 }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
