// The runs filter language: what good queries select, and where bad ones are pointed at.
#include "query/runfilter.h"

#include <QTest>

#include <cmath>

using namespace trainyard;

namespace {

RunRecord makeRun(const QString &id, const QString &name, RunStatus status, QStringList tags,
                  QMap<QString, QString> params, QMap<QString, RunMetricSummary> metrics)
{
    RunRecord run;
    run.id = id;
    run.name = name;
    run.status = status;
    run.tags = std::move(tags);
    run.params = std::move(params);
    run.metrics = std::move(metrics);
    run.backend = QStringLiteral("local");
    run.host = QStringLiteral("gpu-box");
    return run;
}

QList<RunRecord> sampleRuns()
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {
        makeRun("20261101-090000-aaaaaa", "resnet50-baseline", RunStatus::Succeeded, {"baseline", "vision"},
                {{"lr", "0.001"}, {"optimizer", "adamw"}, {"amp", "true"}}, {{"loss", {100, 0.15, 0.1, 2.3}}}),
        makeRun("20261102-090000-bbbbbb", "resnet50-lr-high", RunStatus::Failed, {"sweep"},
                {{"lr", "0.1"}, {"optimizer", "sgd"}, {"amp", "false"}}, {{"loss", {40, nan, 0.9, 5.0}}}),
        makeRun("20261103-090000-cccccc", "vit-small", RunStatus::Running, {"vision", "debug"},
                {{"lr", "3e-4"}, {"optimizer", "adamw"}},
                {{"loss", {10, 0.5, 0.45, 3.0}}, {"val/acc", {2, 0.7, 0.6, 0.7}}}),
        makeRun("20261104-090000-dddddd", "bert base", RunStatus::Canceled, {}, {}, {}),
    };
}

QStringList select(const QString &query)
{
    RunFilter::ParseError error;
    auto filter = RunFilter::tryParse(query, error);
    if (!filter)
        return {QStringLiteral("ERROR: ") + error.message};
    QStringList names;
    for (const RunRecord &run : sampleRuns())
        if (filter->matches(run))
            names << run.name;
    return names;
}

} // namespace

class TestRunFilter : public QObject {
    Q_OBJECT

private slots:
    void goodQueries_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QStringList>("expected");
        const QStringList all{"resnet50-baseline", "resnet50-lr-high", "vit-small", "bert base"};
        QTest::newRow("empty") << "" << all;
        QTest::newRow("blank") << "   " << all;
        QTest::newRow("status") << "status:failed" << QStringList{"resnet50-lr-high"};
        QTest::newRow("status list") << "status:failed,canceled" << QStringList{"resnet50-lr-high", "bert base"};
        QTest::newRow("status stopped early") << "status:stopped-early" << QStringList{};
        QTest::newRow("status list with stopped early") << "status:stopped-early,canceled" << QStringList{"bert base"};
        QTest::newRow("status not") << "status!=running"
                                    << QStringList{"resnet50-baseline", "resnet50-lr-high", "bert base"};
        QTest::newRow("tag") << "tag:vision" << QStringList{"resnet50-baseline", "vit-small"};
        QTest::newRow("tag and status") << "tag:vision status:running" << QStringList{"vit-small"};
        QTest::newRow("negated tag") << "-tag:debug"
                                     << QStringList{"resnet50-baseline", "resnet50-lr-high", "bert base"};
        QTest::newRow("name contains") << "name~resnet" << QStringList{"resnet50-baseline", "resnet50-lr-high"};
        QTest::newRow("name is, quoted") << "name:\"bert base\"" << QStringList{"bert base"};
        QTest::newRow("bare word") << "vit" << QStringList{"vit-small"};
        QTest::newRow("bare word matches id") << "bbbbbb" << QStringList{"resnet50-lr-high"};
        QTest::newRow("quoted bare words") << "\"bert base\"" << QStringList{"bert base"};
        QTest::newRow("numeric param") << "lr>=1e-3" << QStringList{"resnet50-baseline", "resnet50-lr-high"};
        QTest::newRow("numeric param equal, other spelling") << "lr=1e-3" << QStringList{"resnet50-baseline"};
        QTest::newRow("param less") << "lr<0.001" << QStringList{"vit-small"};
        QTest::newRow("string param") << "optimizer:adamw" << QStringList{"resnet50-baseline", "vit-small"};
        QTest::newRow("param not equal skips runs without it")
            << "optimizer!=sgd" << QStringList{"resnet50-baseline", "vit-small"};
        QTest::newRow("bool param") << "amp:true" << QStringList{"resnet50-baseline"};
        QTest::newRow("metric min") << "loss.min<0.2" << QStringList{"resnet50-baseline"};
        QTest::newRow("metric last skips NaN") << "loss.last>0" << QStringList{"resnet50-baseline", "vit-small"};
        QTest::newRow("metric max") << "loss.max>=3" << QStringList{"resnet50-lr-high", "vit-small"};
        QTest::newRow("metric count") << "loss.count>20" << QStringList{"resnet50-baseline", "resnet50-lr-high"};
        QTest::newRow("metric key with slash") << "val/acc.max>0.65" << QStringList{"vit-small"};
        QTest::newRow("the issue's example")
            << "status:succeeded tag:baseline lr>=1e-3 loss.min<0.2 name~resnet" << QStringList{"resnet50-baseline"};
        QTest::newRow("backend and host") << "backend:local host~gpu" << all;
    }

    void goodQueries()
    {
        QFETCH(QString, query);
        QFETCH(QStringList, expected);
        QCOMPARE(select(query), expected);
    }

    void badQueries_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<int>("position");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unknown status") << "tag:x status:faild" << 13 << "unknown status 'faild'";
        QTest::newRow("unknown status in a list") << "status:failed,nope" << 14 << "unknown status 'nope'";
        QTest::newRow("missing value") << "lr>= tag:x" << 2 << "expected a value after 'lr>='";
        QTest::newRow("not a number") << "lr>=fast" << 4 << "expected a number after 'lr>=', got 'fast'";
        QTest::newRow("metric needs a number") << "loss.min<low" << 9 << "expected a number";
        QTest::newRow("metric contains") << "loss.min~1" << 8 << "a metric is a number";
        QTest::newRow("operator without field") << "status:failed >=3" << 14 << "needs a field before it";
        QTest::newRow("unknown operator") << "lr=>3" << 2 << "unknown operator '=>'";
        QTest::newRow("ordering a status") << "status>failed" << 6 << "cannot be compared";
        QTest::newRow("open quote") << "name:\"resnet" << 5 << "never closed";
        QTest::newRow("lone minus") << "tag:x - tag:y" << 6 << "must be followed by a term";
    }

    void badQueries()
    {
        QFETCH(QString, query);
        QFETCH(int, position);
        QFETCH(QString, mentions);
        RunFilter::ParseError error;
        QVERIFY(!RunFilter::tryParse(query, error));
        QVERIFY2(error.message.contains(mentions), qPrintable(error.message));
        QCOMPARE(error.position, position);
        QVERIFY2(error.message.startsWith(QStringLiteral("column %1:").arg(position + 1)), qPrintable(error.message));
        // The display form puts a caret under the bad token.
        const QStringList lines = error.display(query).split(u'\n');
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines[2].indexOf(u'^'), position + 2);
    }
};

QTEST_GUILESS_MAIN(TestRunFilter)
#include "tst_runfilter.moc"
