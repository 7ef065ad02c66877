-- WAF: blocked requests per terminating rule
SELECT terminating_rule_id, count(*) AS blocked
FROM waf
WHERE action = 'BLOCK'
GROUP BY terminating_rule_id
ORDER BY blocked DESC, terminating_rule_id;
