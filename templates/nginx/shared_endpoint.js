// The docker gateway's shared endpoint: one OpenAI base URL for every model of the stack.
// A constant file (njs 0.7): what it routes comes from nginx variables the config sets,
// as JSON. It reads the request's JSON body, takes `model`, and redirects to the named
// location of the deployment that serves it; that location proxies (and streams) as the
// deployment's own route does. Errors are OpenAI's shape: {"error": {"message", "type",
// "param", "code"}}, 404 "The model `x` does not exist." for an unknown model (as the OpenAI
// API answers: e.g. github.com/openinterpreter/open-interpreter issue 216).

function reply(r, status, error) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify({error: error}));
}

function lookup(table, name) {
    return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : null;
}

function notFound(r, model) {
    reply(r, 404, {
        message: 'The model `' + model + '` does not exist.',
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found'
    });
}

// GET <path>/models/<id>: one model of the list (ids may hold '/').
function describe(r, table) {
    var prefix = r.variables.modelstack_models_prefix;
    if (r.uri.indexOf(prefix) !== 0 || r.uri.length === prefix.length) {
        reply(r, 404, {
            message: 'Unknown request URL: ' + r.method + ' ' + r.uri + '.',
            type: 'invalid_request_error',
            param: null,
            code: 'unknown_url'
        });
        return;
    }
    var model = r.uri.slice(prefix.length);
    if (lookup(table, model) === null) {
        notFound(r, model);
        return;
    }
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify({id: model, object: 'model', created: 0, owned_by: 'modelstack'}));
}

function route(r) {
    var table = JSON.parse(r.variables.modelstack_routes);
    if (r.method === 'GET') {
        describe(r, table);
        return;
    }
    var body;
    try {
        body = JSON.parse(r.requestText || '');
    } catch (e) {
        reply(r, 400, {
            message: 'We could not parse the JSON body of your request.',
            type: 'invalid_request_error',
            param: null,
            code: null
        });
        return;
    }
    var model = body !== null && typeof body === 'object' ? body.model : undefined;
    if (typeof model !== 'string' || model === '') {
        reply(r, 400, {
            message: 'you must provide a model parameter',
            type: 'invalid_request_error',
            param: null,
            code: null
        });
        return;
    }
    var location = lookup(table, model);
    if (location === null) {
        notFound(r, model);
        return;
    }
    r.internalRedirect(location);
}

export default {route};
