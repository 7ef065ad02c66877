-- Containers: error-level lines per pod
SELECT namespace, pod, count(*) AS errors
FROM container
WHERE level IN ('ERROR', 'CRITICAL', 'FATAL', 'PANIC')
GROUP BY namespace, pod
ORDER BY errors DESC, namespace, pod;
