# The ronghe application image: the API and the worker run from it (see docker-compose.yml).
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY . .
# The attachments volume (docker-compose.yml) is created from this folder, so it belongs to the app's user.
RUN mkdir -p /var/lib/ronghe/attachments && chown node:node /var/lib/ronghe/attachments
USER node

# The API by default; the worker and migrations use other commands (docker-compose.yml).
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/server.ts"]
