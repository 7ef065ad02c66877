-- CloudTrail: API errors per user and error code
SELECT user_name, error_code, count(*) AS errors
FROM cloudtrail
WHERE error_code IS NOT NULL
GROUP BY user_name, error_code
ORDER BY errors DESC, user_name, error_code
LIMIT 10;
