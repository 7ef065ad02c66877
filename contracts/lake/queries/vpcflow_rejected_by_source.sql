-- VPC Flow Logs: source addresses with the most rejected flows
SELECT srcaddr, count(*) AS flows, CAST(sum(packets) AS BIGINT) AS packets
FROM vpcflow
WHERE action = 'REJECT'
GROUP BY srcaddr
ORDER BY flows DESC, srcaddr
LIMIT 10;
