"""HTTP triggers: HTTP APIs (routes, stages) and function URLs, served as API Gateway serves them."""
