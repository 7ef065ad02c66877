-- CloudTrail: console sign-ins per user, failures first
SELECT user_name,
       count(*) FILTER (WHERE console_login = 'Success') AS succeeded,
       count(*) FILTER (WHERE console_login = 'Failure') AS failed
FROM cloudtrail
WHERE event_name = 'ConsoleLogin'
GROUP BY user_name
ORDER BY failed DESC, user_name;
