-- ALB: targets answering the most 5xx responses
SELECT target_ip, target_port, count(*) AS errors
FROM alb
WHERE elb_status_code BETWEEN 500 AND 599 AND target_ip IS NOT NULL
GROUP BY target_ip, target_port
ORDER BY errors DESC, target_ip, target_port
LIMIT 5;
