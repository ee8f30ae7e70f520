// A keep-alive libcurl client: one easy handle reused for every request.
#include "support/httpclient.h"

#include <QJsonDocument>

#include <curl/curl.h>

namespace trainyard::test {

namespace {

size_t appendBody(char *data, size_t size, size_t count, void *target)
{
    static_cast<QByteArray *>(target)->append(data, qsizetype(size * count));
    return size * count;
}

} // namespace

QJsonObject HttpResponse::json() const { return QJsonDocument::fromJson(body).object(); }

HttpClient::HttpClient(QString baseUri, QByteArray token) : m_baseUri(std::move(baseUri)), m_token(std::move(token))
{
    m_curl = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL *>(m_curl)); }

HttpResponse HttpClient::post(const QString &endpoint, const QByteArray &jsonBody)
{
    return perform((m_baseUri + QStringLiteral("/api/2.0/mlflow/") + endpoint).toUtf8(), &jsonBody);
}

HttpResponse HttpClient::get(const QString &endpoint, const QString &query)
{
    return perform((m_baseUri + QStringLiteral("/api/2.0/mlflow/") + endpoint + QLatin1Char('?') + query).toUtf8(),
                   nullptr);
}

HttpResponse HttpClient::perform(const QByteArray &url, const QByteArray *postBody)
{
    CURL *curl = static_cast<CURL *>(m_curl);
    HttpResponse response;
    curl_slist *headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    const QByteArray authorization = QByteArrayLiteral("Authorization: Bearer ") + m_token;
    if (!m_token.isEmpty())
        headers = curl_slist_append(headers, authorization.constData());
    curl_easy_setopt(curl, CURLOPT_URL, url.constData());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    if (postBody) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, postBody->constData());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, long(postBody->size()));
    } else {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK)
        response.transportError = QString::fromUtf8(curl_easy_strerror(code));
    else
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_slist_free_all(headers);
    return response;
}

} // namespace trainyard::test
