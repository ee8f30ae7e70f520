// Sweep expansion. Random samples come from std::mt19937_64, whose sequence the C++ standard fixes, so a
// seeded sweep makes the same runs on every machine and compiler.
#include "spec/sweep.h"

#include <QHash>

#include <cmath>
#include <random>

namespace trainyard {

namespace {

ParamType typeOfValues(const QStringList &values)
{
    bool allInt = true, allNumber = true, allBool = true;
    for (const QString &value : values) {
        bool ok = false;
        (void)value.toLongLong(&ok);
        allInt = allInt && ok;
        (void)value.toDouble(&ok);
        allNumber = allNumber && ok;
        allBool = allBool && (value == u"true" || value == u"false");
    }
    return allInt ? ParamType::Int : allNumber ? ParamType::Float : allBool ? ParamType::Bool : ParamType::String;
}

// Puts `value` into the param `name` (adding it when the spec has none), checked against its type.
Result<void> setParam(QList<RunParam> &params, const QString &name, const QString &value, ParamType newType)
{
    for (RunParam &param : params) {
        if (param.name != name)
            continue;
        bool ok = true;
        switch (param.type) {
        case ParamType::Int:
            (void)value.toLongLong(&ok);
            break;
        case ParamType::Float:
            ok = std::isfinite(value.toDouble(&ok)) && ok;
            break;
        case ParamType::Bool:
            ok = value == u"true" || value == u"false";
            break;
        case ParamType::Choice:
            ok = param.choices.contains(value);
            break;
        case ParamType::String:
            break;
        }
        if (!ok)
            return fail(param.type == ParamType::Choice
                            ? QStringLiteral("sweep value '%1' of param '%2' is not one of its choices (%3)")
                                  .arg(value, name, param.choices.join(QStringLiteral(", ")))
                            : QStringLiteral("sweep value '%1' of param '%2' is not of its type %3")
                                  .arg(value, name, paramTypeName(param.type)));
        param.value = value;
        return {};
    }
    params << RunParam{name, newType, value, {}};
    return {};
}

QString formatSample(double value) { return QString::number(value, 'g', 6); }

} // namespace

QString EarlyStopRule::describe() const
{
    QStringList steps;
    for (std::int64_t rung : rungs)
        steps << QString::number(rung);
    const QString on =
        QStringLiteral("%1 (%2) at steps %3")
            .arg(metric, maximize ? QStringLiteral("max") : QStringLiteral("min"), steps.join(QStringLiteral(", ")));
    return method == Method::Asha ? QStringLiteral("ASHA on %1, keeping 1/%2").arg(on).arg(reduction)
                                  : QStringLiteral("median stopping on %1").arg(on);
}

qint64 SweepSpec::runCount() const
{
    if (method == Method::Tpe)
        return trials;
    qint64 count = 1;
    for (const auto &axis : grid)
        count *= std::max<qint64>(1, axis.second.size());
    if (samples > 0)
        count *= samples;
    if (!seeds.isEmpty())
        count *= seeds.size();
    return count;
}

Result<QList<SweepPoint>> expandSweep(const QList<RunParam> &baseParams, const SweepSpec &sweep)
{
    if (sweep.method == SweepSpec::Method::Tpe)
        return fail(QStringLiteral("a tpe sweep's runs are proposed one by one by the queue, not expanded"));
    const qint64 total = sweep.runCount();
    if (total > kMaxSweepRuns)
        return fail(QStringLiteral("the sweep makes %1 runs; at most %2 in one sweep").arg(total).arg(kMaxSweepRuns));
    for (const auto &[name, values] : sweep.grid)
        if (values.isEmpty())
            return fail(QStringLiteral("grid axis '%1' has no values").arg(name));

    // The random samples first, so that every grid point and seed gets the same samples.
    std::mt19937_64 generator(sweep.randomSeed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    QList<QList<QPair<QString, QString>>> samples;
    for (int s = 0; s < sweep.samples; ++s) {
        QList<QPair<QString, QString>> sample;
        for (const RandomAxis &axis : sweep.random) {
            const double u = unit(generator);
            QString value;
            switch (axis.distribution) {
            case RandomAxis::Distribution::Uniform:
                value = formatSample(axis.min + u * (axis.max - axis.min));
                break;
            case RandomAxis::Distribution::LogUniform:
                value = formatSample(std::exp(std::log(axis.min) + u * (std::log(axis.max) - std::log(axis.min))));
                break;
            case RandomAxis::Distribution::Int: {
                // In unsigned arithmetic, so that the whole 64-bit range neither overflows nor collapses to its low end;
                // the same draw as ever for ranges a double holds exactly.
                const quint64 spanMinusOne = quint64(axis.maxInt) - quint64(axis.minInt);
                const double scaled = u * (double(spanMinusOne) + 1.0);
                const quint64 offset = scaled >= double(spanMinusOne) ? spanMinusOne : quint64(scaled);
                value = QString::number(qint64(quint64(axis.minInt) + offset));
                break;
            }
            case RandomAxis::Distribution::Choice:
                value = axis.choices.at(
                    std::min<qsizetype>(axis.choices.size() - 1, qsizetype(u * double(axis.choices.size()))));
                break;
            }
            sample << qMakePair(axis.param, value);
        }
        samples << sample;
    }
    if (samples.isEmpty())
        samples << QList<QPair<QString, QString>>{};
    const QStringList seeds = sweep.seeds.isEmpty() ? QStringList{QString()} : sweep.seeds;

    // Each axis's type once: deciding it reads every value of the axis, which per point made a sweep quadratic.
    QList<ParamType> gridTypes;
    for (const auto &axis : sweep.grid)
        gridTypes << typeOfValues(axis.second);
    QHash<QString, ParamType> randomTypes;
    for (const RandomAxis &axis : sweep.random) {
        randomTypes.insert(axis.param,
                           axis.distribution == RandomAxis::Distribution::Int          ? ParamType::Int
                               : axis.distribution == RandomAxis::Distribution::Choice ? typeOfValues(axis.choices)
                                                                                       : ParamType::Float);
    }
    const ParamType seedType = typeOfValues(sweep.seeds);

    QList<SweepPoint> points;
    points.reserve(qsizetype(total));
    // Grid points in odometer order: the last axis turns fastest.
    QList<qsizetype> odometer(sweep.grid.size(), 0);
    for (;;) {
        for (const auto &sample : samples) {
            for (const QString &seed : seeds) {
                SweepPoint point;
                point.params = baseParams;
                QStringList label;
                for (qsizetype axis = 0; axis < sweep.grid.size(); ++axis) {
                    const auto &[name, values] = sweep.grid[axis];
                    const QString value = values[odometer[axis]];
                    if (auto set = setParam(point.params, name, value, gridTypes[axis]); !set)
                        return fail(set.error());
                    label << name + QLatin1Char('=') + value;
                }
                for (const auto &[name, value] : sample) {
                    if (auto set = setParam(point.params, name, value, randomTypes.value(name)); !set)
                        return fail(set.error());
                    label << name + QLatin1Char('=') + value;
                }
                if (!seed.isEmpty()) {
                    if (auto set = setParam(point.params, sweep.seedParam, seed, seedType); !set)
                        return fail(set.error());
                    label << sweep.seedParam + QLatin1Char('=') + seed;
                }
                point.label = label.join(QLatin1Char(' '));
                points << point;
            }
        }
        qsizetype axis = sweep.grid.size() - 1;
        while (axis >= 0 && ++odometer[axis] == sweep.grid[axis].second.size()) {
            odometer[axis] = 0;
            --axis;
        }
        if (axis < 0)
            break;
    }
    return points;
}

} // namespace trainyard
