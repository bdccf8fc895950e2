# A Dockerfile with mistakes the linter must catch (make docker-lint checks that it does).
FROM golang:1.26 AS build
workdir src
CMD ['app']
EXPOSE http
ENTRYPOINT ["a"]
ENTRYPOINT ["b"]
