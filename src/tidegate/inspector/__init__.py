"""The Amazon Inspector2 REST-JSON API over the same findings the ECR API serves."""
